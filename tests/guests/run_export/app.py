"""run_export: a scene exporting `wasi:cli/run@0.2.0#run` (no `start`); clears to red forever.

World `run-scene` (this folder's wit/world.wit): the scene imports, and `export wasi:cli/run@0.2.0`.
Draws: every frame the whole surface red (1, 0, 0) -> pixels (255, 0, 0, 255).
Prints one line, {"event": "run"}, when `run` is entered. Never returns.
"""

import wit_world.exports
from gfxkit import clear, emit, next_frame, setup


class Run(wit_world.exports.Run):
    def run(self) -> None:
        emit(event="run")
        device, canvas, context = setup()
        frame_ready = canvas.subscribe_frame()
        while True:
            next_frame(canvas, frame_ready)
            clear(device, context, (1.0, 0.0, 0.0))
