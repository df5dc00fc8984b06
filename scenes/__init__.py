"""The project's own guest scenes: one folder per scene holding `app.py`; `scenes.build` builds them."""
