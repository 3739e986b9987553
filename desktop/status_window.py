"""A minimal window that proves the stack end to end: Qt, the database, the workflow states."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget


class _Loader(QObject):
    """Runs the count query on a worker thread and hands the result back by signal."""

    sig_loaded = Signal(object)
    sig_failed = Signal(str)


def _count_by_state(url: str) -> list[tuple[str, int]]:
    from sqlalchemy import func, select

    from db.engine import open_database
    from db.models import Case
    from db.workflow import State

    database = open_database(url)
    try:
        with database.read() as session:
            rows = dict(session.execute(
                select(Case.state, func.count()).group_by(Case.state)).all())
        return [(State(s).label, rows.get(s.value, 0)) for s in State]
    finally:
        database.dispose()


class StatusWindow(QMainWindow):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.setWindowTitle(self.tr("CityOps 智慧城管指挥中心"))
        central = QWidget()
        layout = QVBoxLayout(central)
        title = QLabel(self.tr("CityOps 智慧城管指挥中心"))
        title.setStyleSheet("font-size: 28px; font-weight: bold;")
        self._body = QLabel(self.tr("正在连接数据库…"))
        self._body.setStyleSheet("font-size: 20px;")
        self._body.setAlignment(Qt.AlignmentFlag.AlignTop)
        layout.addWidget(title)
        layout.addWidget(self._body, 1)
        self.setCentralWidget(central)
        self.setStyleSheet("QMainWindow, QWidget { background: #10161f; color: #e6edf3; }")
        self.statusBar().showMessage(self.tr("数据库：%s") % _safe_url(url))
        self._loader = _Loader(self)
        self._loader.sig_loaded.connect(self._show_counts)
        self._loader.sig_failed.connect(lambda msg: self._body.setText(self.tr("数据库不可用：%s") % msg))
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db")
        future = self._pool.submit(_count_by_state, url)
        future.add_done_callback(self._done)

    def _done(self, future) -> None:  # runs on the worker thread: only emit
        try:
            self._loader.sig_loaded.emit(future.result())
        except Exception as exc:  # shown to the user; the window stays usable
            self._loader.sig_failed.emit(str(exc))

    def _show_counts(self, rows: list[tuple[str, int]]) -> None:
        lines = [self.tr("案件状态统计（指挥中心主界面在下一版本提供）"), ""]
        lines += [f"{label}：{count:,}" for label, count in rows]
        self._body.setText("\n".join(lines))

    def closeEvent(self, event) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        super().closeEvent(event)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
