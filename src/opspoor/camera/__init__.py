"""Camera forensics: link photos and videos to the camera that took them by sensor noise (PRNU).

`residual` extracts noise residuals, `fingerprint` estimates a camera's pattern, `pce` and `search`
match a query against a fingerprint over declared geometries, `cluster` groups photos by unknown
camera, `digest` prefilters many cameras, `video` reads frames, `registry` and `service` store and
match enrolled cameras, `report` renders a case-file page. See docs/camera.md.
"""
