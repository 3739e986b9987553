"""The window points its video wall at what the officer looks at: the cameras nearest a selected
case or alert (the alert's own camera first), and a camera clicked on the map."""
from __future__ import annotations

from db.alerts import lifecycle as alerts
from db.models import Camera
from tests.desktop.window.test_main_window import close, js, open_window
from tests.helpers import CENTRE, report

DEAD_URL = "http://127.0.0.1:9/cam/{code}.ts"  # nothing listens: the tile shows signal lost


def add_cameras(env) -> dict[str, int]:
    """Three cameras at growing distances from the centre, one far across the city."""
    lat, lon = CENTRE
    spots = {"near": (lat + 0.001, lon), "mid": (lat + 0.004, lon), "next": (lat, lon + 0.008),
             "far": (lat + 0.2, lon + 0.2)}
    ids = {}
    with env.database.write() as s:
        for code, (la, lo) in spots.items():
            cam = Camera(code=f"T-{code}", name=f"测试摄像头{code}", lat=la, lon=lo, town_id=None,
                         stream_url=DEAD_URL.format(code=code), kind="fixed", analytics=True)
            s.add(cam)
            s.flush()
            ids[code] = cam.id
    return ids


def wall_ids(window) -> list[int | None]:
    return [t.camera_id for t in window.video_wall.visible_tiles()]


def test_selecting_a_case_shows_its_nearest_cameras(qtbot, sqlite_env, tmp_path):
    env = sqlite_env
    cams = add_cameras(env)
    case = report(env)
    window = open_window(qtbot, env, tmp_path)
    try:
        assert window.video_wall.layout_size == 4
        qtbot.waitUntil(lambda: window.queue.model.row_of(case.case_id) is not None, timeout=5000)
        window.queue.select_case(case.case_id)
        qtbot.waitUntil(lambda: wall_ids(window)[:3] == [cams["near"], cams["mid"], cams["next"]],
                        timeout=5000)
        assert cams["far"] not in wall_ids(window)  # beyond the search radius
    finally:
        close(window)


def test_a_camera_clicked_on_the_map_plays_on_the_wall(qtbot, sqlite_env, tmp_path):
    env = sqlite_env
    cams = add_cameras(env)
    window = open_window(qtbot, env, tmp_path)
    try:
        qtbot.waitUntil(lambda: js(qtbot, window.map_view, "cityops.stats().cameras") == 4,
                        timeout=10_000)
        js(qtbot, window.map_view, f"cityops._fireCameraClick({cams['far']})")
        qtbot.waitUntil(lambda: cams["far"] in wall_ids(window), timeout=5000)
        tile = next(t for t in window.video_wall.visible_tiles() if t.camera_id == cams["far"])
        assert tile.camera_name == "测试摄像头far"
    finally:
        close(window)


def test_selecting_a_video_alert_puts_its_own_camera_first(qtbot, sqlite_env, tmp_path):
    env = sqlite_env
    cams = add_cameras(env)
    lat, lon = CENTRE
    alert_id = alerts.raise_alert(
        env.database, source="camera", type="video:smoke", severity="major",
        dedup_key=f"camera:{cams['mid']}:video:smoke", title="视频识别：烟雾", detail="",
        lat=lat, lon=lon, town_id=None, sensor_id=None, camera_id=cams["mid"], value=None)
    window = open_window(qtbot, env, tmp_path)
    try:
        qtbot.waitUntil(lambda: window.alert_panel.select_alert(alert_id), timeout=5000)
        qtbot.waitUntil(lambda: wall_ids(window)[:3] == [cams["mid"], cams["near"], cams["next"]],
                        timeout=5000)
    finally:
        close(window)


def test_the_maps_menu_plays_the_cameras_near_a_place(qtbot, sqlite_env, tmp_path):
    """Right-click on the map, "Play the nearest cameras" (issue "The desk at 3 a.m.", 10):
    the wall shows the cameras around that point, the nearest first."""
    env = sqlite_env
    cams = add_cameras(env)
    window = open_window(qtbot, env, tmp_path)
    try:
        qtbot.waitUntil(lambda: window.map_view is not None and window.map_view.ready,
                        timeout=10_000)
        # Next to the "far" camera (0.2° from the centre, ~30 km from the other three).
        window.map_view.sig_cameras_near.emit(CENTRE[0] + 0.2, CENTRE[1] + 0.2)
        qtbot.waitUntil(lambda: wall_ids(window) == [cams["far"], None, None, None], timeout=5000)
    finally:
        close(window)
