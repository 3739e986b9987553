"""The dark control-room theme: high contrast, large type, colours that mean one thing each.

Red is only ever "overdue / critical", amber "due soon / warning", green "on track". Colours
are shared with the map page (``resources/map/cityops_map.js`` reads them from the page config).
"""
from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

BACKGROUND = "#0d1117"
PANEL = "#161b22"
PANEL_ALT = "#1c2330"
BORDER = "#30363d"
TEXT = "#e6edf3"
TEXT_DIM = "#9da7b3"
ACCENT = "#2f81f7"
SELECTION = "#1f6feb"
MENU_BORDER = "#8b949e"  # a menu floats over the map: its edge must show on any tile

DEADLINE_COLORS = {"overdue": "#ff4d4f", "due_soon": "#ffb020", "on_track": "#3fb950",
                   "none": "#8b949e"}
URGENCY_COLORS = {"emergency": "#ff4d4f", "urgent": "#ff8c1a", "normal": "#58a6ff"}
#: Alert severity: red only for critical, as everywhere else.
SEVERITY_COLORS = {"critical": "#ff4d4f", "major": "#ff8c1a", "minor": "#ffb020",
                   "warning": "#58a6ff"}
#: The severity chip in the alert lists: (fill, text). The word sits on its own fill, so it
#: reads the same on a plain row, a blinking red row and the blue selection (every pair at
#: least 4.5:1, WCAG AA; tests/desktop/alerts/test_severity_chip.py works the ratios out).
SEVERITY_CHIPS = {"critical": ("#b42318", "#ffffff"), "major": ("#ff8c1a", "#111111"),
                  "minor": ("#ffb020", "#111111"), "warning": ("#58a6ff", "#111111")}
BANNER_ALERT = "#b42318"
BANNER_DEMO = "#7a4a00"

BASE_POINT_SIZE = 12  # at 1920×1080; a 4K wall screen doubles it


def stylesheet(scale: float = 1.0) -> str:
    pt = round(BASE_POINT_SIZE * scale)
    return f"""
    QWidget {{ background: {BACKGROUND}; color: {TEXT}; font-size: {pt}pt; }}
    QMainWindow::separator {{ background: {BORDER}; width: 3px; height: 3px; }}
    QDockWidget {{ titlebar-close-icon: none; }}
    QDockWidget::title {{ background: {PANEL_ALT}; padding: 6px 10px; font-weight: bold; }}
    QTableView {{ background: {PANEL}; alternate-background-color: {PANEL_ALT};
                 gridline-color: {BORDER}; selection-background-color: {SELECTION};
                 selection-color: white; }}
    QHeaderView::section {{ background: {PANEL_ALT}; color: {TEXT}; padding: 5px;
                           border: 0; border-right: 1px solid {BORDER}; font-weight: bold; }}
    QLineEdit, QComboBox, QPlainTextEdit, QTextEdit, QSpinBox {{
        background: {PANEL}; border: 1px solid {BORDER}; border-radius: 4px; padding: 4px; }}
    QLineEdit:focus, QComboBox:focus, QPlainTextEdit:focus {{ border: 1px solid {ACCENT}; }}
    QPushButton {{ background: {PANEL_ALT}; border: 1px solid {BORDER}; border-radius: 4px;
                  padding: 6px 14px; }}
    QPushButton[compact="true"] {{ padding: 6px 7px; }}
    QPushButton:hover {{ border-color: {ACCENT}; }}
    QPushButton:focus {{ border: 2px solid {ACCENT}; }}
    QPushButton:disabled {{ color: {TEXT_DIM}; }}
    QPushButton[primary="true"] {{ background: {ACCENT}; color: white; border: 0; }}
    QPushButton[primary="true"]:disabled {{ background: {PANEL_ALT}; color: {TEXT_DIM};
                                           border: 1px solid {BORDER}; }}
    QStatusBar {{ background: {PANEL_ALT}; }}
    QLabel[dim="true"] {{ color: {TEXT_DIM}; }}
    QToolTip {{ background: {PANEL_ALT}; color: {TEXT}; border: 1px solid {BORDER}; }}
    QMenu {{ background: {PANEL_ALT}; color: {TEXT}; border: 1px solid {MENU_BORDER}; padding: 4px 0; }}
    QMenu::item {{ padding: 6px 28px 6px 16px; }}
    QMenu::item:selected {{ background: {SELECTION}; color: white; }}
    QMenu::item:disabled {{ color: {TEXT_DIM}; }}
    QMenu::separator {{ height: 1px; background: {TEXT_DIM}; margin: 4px 10px; }}
    """


def apply_theme(app: QApplication, scale: float = 1.0) -> None:
    palette = QPalette()
    for role, colour in ((QPalette.ColorRole.Window, BACKGROUND), (QPalette.ColorRole.Base, PANEL),
                         (QPalette.ColorRole.AlternateBase, PANEL_ALT),
                         (QPalette.ColorRole.Text, TEXT), (QPalette.ColorRole.WindowText, TEXT),
                         (QPalette.ColorRole.Button, PANEL_ALT),
                         (QPalette.ColorRole.ButtonText, TEXT),
                         (QPalette.ColorRole.Highlight, SELECTION),
                         (QPalette.ColorRole.HighlightedText, "#ffffff")):
        palette.setColor(role, QColor(colour))
    app.setPalette(palette)
    font = QFont()
    font.setFamilies(["Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "sans-serif"])
    font.setPointSize(round(BASE_POINT_SIZE * scale))
    app.setFont(font)
    app.setStyleSheet(stylesheet(scale))
