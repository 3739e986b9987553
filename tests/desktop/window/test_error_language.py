"""Errors are worded by their code through Qt Linguist: the window in English and in Chinese
provokes a conflict, a refusal and an outage, and each message is in the window's language."""
from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from db.auth.roles import Role
from db.cases import workflow as wf
from db.cases.workflow import Step
from db.core.engine import open_database
from desktop.core import i18n
from tests.conftest import Env
from tests.desktop.window.test_main_window import close, open_window
from tests.helpers import any_class_id, report
from tests.tcp_proxy import TcpProxy

EXPECTED = {
    "en": {
        "refusal": "Please fill in the opinion.",
        "conflict": "This case was changed by 测试值班长 at ",
        "outage": "The database is unreachable; nothing was changed. "
                  "Try again when the connection is back.",
    },
    "zh_CN": {
        "refusal": "请填写意见。",
        "conflict": "此案件已被 测试值班长 于 ",
        "outage": "无法连接数据库，未做任何更改。请在连接恢复后重试。",
    },
}


@pytest.mark.postgres
@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_conflict_refusal_and_outage_in_the_windows_language(qtbot, qapp, pg_env, tmp_path, lang):
    proxy = TcpProxy()
    proxy.start()
    url = make_url(pg_env.database.url).set(port=proxy.port).render_as_string(hide_password=False)
    via_proxy = Env(open_database(url, migrate=False), pg_env.users, pg_env.city_id, "postgresql")
    i18n.install(qapp, lang)  # what `cityops --lang LANG` does before the window opens
    window = None
    try:
        case = report(pg_env)
        window = open_window(qtbot, via_proxy, tmp_path)
        detail = window.detail
        qtbot.waitUntil(lambda: window.queue.model.row_of(case.case_id) is not None, timeout=5000)
        window.queue.select_case(case.case_id)
        qtbot.waitUntil(lambda: detail.current_case_id == case.case_id, timeout=5000)
        want = EXPECTED[lang]

        # a refusal: the database requires an opinion to void
        with qtbot.waitSignal(detail.sig_step_finished, timeout=10_000) as finished:
            detail.run_step(Step.VOID, opinion="   ")
        assert finished.args == [Step.VOID.value, "refused"]
        assert detail.message_label.text() == want["refusal"]

        # a conflict: the shift leader accepts the case from another desk meanwhile
        wf.accept(pg_env.database, pg_env.users[Role.SHIFT_LEADER], case.case_id, case.version,
                  class_id=any_class_id(pg_env))
        with qtbot.waitSignal(detail.sig_step_finished, timeout=10_000) as finished:
            detail.run_step(Step.VOID, seen_version=case.version, opinion="重复上报")
        assert finished.args == [Step.VOID.value, "conflict"]
        assert detail.message_label.text().startswith(want["conflict"])

        # an outage: the link to the database is cut
        proxy.stop()
        qtbot.waitUntil(lambda: not window.ctx.online, timeout=10_000)
        with qtbot.waitSignal(detail.sig_step_finished, timeout=10_000) as finished:
            detail.run_step(Step.VOID, opinion="重复上报")
        assert finished.args == [Step.VOID.value, "offline"]
        assert detail.message_label.text() == want["outage"]
        assert detail.retry_button.isVisible() or not detail.isVisible()
    finally:
        if window is not None:
            close(window)
        i18n.install(qapp, "en")
        via_proxy.database.dispose()
        proxy.stop()
