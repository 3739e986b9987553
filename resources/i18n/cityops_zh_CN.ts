<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>AcceptDialog</name>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="171" />
        <source>Type to search the classes</source>
        <translation>输入关键字搜索案件类别</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="176" />
        <source>Class</source>
        <translation>案件类别</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="177" />
        <source>Urgency</source>
        <translation>紧急程度</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="189" />
        <source>Choose the case's class.</source>
        <translation>请选择案件类别。</translation>
    </message>
</context>
<context>
    <name>AlertModel</name>
    <message>
        <location filename="../../desktop/alerts/model.py" line="52" />
        <source>Level</source>
        <translation>等级</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/model.py" line="53" />
        <source>Alert</source>
        <translation>告警</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/model.py" line="54" />
        <source>Town</source>
        <translation>镇街</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/model.py" line="55" />
        <source>Repeats</source>
        <translation>重复</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/model.py" line="56" />
        <source>Last</source>
        <translation>最近</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/model.py" line="57" />
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/model.py" line="58" />
        <source>Case</source>
        <translation>案件</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/model.py" line="367" />
        <source>%1 of %2 unacknowledged</source>
        <translation>%2 条中 %1 条未确认</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/model.py" line="388" />
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
</context>
<context>
    <name>AlertPanel</name>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="191" />
        <location filename="../../desktop/alerts/panel.py" line="725" />
        <location filename="../../desktop/alerts/panel.py" line="739" />
        <source>Acknowledge</source>
        <translation>确认</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="193" />
        <location filename="../../desktop/alerts/panel.py" line="818" />
        <location filename="../../desktop/alerts/panel.py" line="854" />
        <source>Turn into case</source>
        <translation>转为案件</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="194" />
        <location filename="../../desktop/alerts/panel.py" line="859" />
        <source>Link to case</source>
        <translation>关联案件</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="195" />
        <location filename="../../desktop/alerts/panel.py" line="850" />
        <source>Clear</source>
        <translation>消警</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="196" />
        <source>Open case</source>
        <translation>查看案件</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="334" />
        <source>The alerts could not be read: %1</source>
        <translation>无法读取告警：%1</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="557" />
        <source>Select an alert to see it here.</source>
        <translation>选择一条告警，在此查看详情。</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="551" />
        <source>Where: %1</source>
        <translation>位置：%1</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="534" />
        <source>%1 · %2 alerts of one event · %3</source>
        <translation>%1 · 同一事件 %2 条告警 · %3</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="538" />
        <source>First %1 · last %2 · %3 unacknowledged</source>
        <translation>首次 %1 · 最近 %2 · %3 条未确认</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="571" />
        <source>First %1 · last %2 · %3 times</source>
        <translation>首次 %1 · 最近 %2 · 共 %3 次</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="575" />
        <source>Acknowledged by %1 at %2</source>
        <translation>%1 于 %2 确认</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="579" />
        <source>Case: %1</source>
        <translation>案件：%1</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="600" />
        <source>%1 active alerts · %2 critical</source>
        <translation>%1 条未消除告警 · 严重 %2 条</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="604" />
        <source>%1 critical alerts await acknowledgement (F9)</source>
        <translation>%1 条严重告警待确认（F9）</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="632" />
        <source>No sound</source>
        <translation>无声音设备</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="633" />
        <source>This workstation has no audio output; critical alerts blink instead.</source>
        <translation>本工作站没有音频输出，严重告警以闪烁提示。</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="636" />
        <source>Silence alarm (Alt+M)</source>
        <translation>静音（Alt+M）</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="637" />
        <source>Silences the alarms ringing now; a new critical alert sounds again.</source>
        <translation>静音当前告警；新的严重告警会再次响铃。</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="640" />
        <source>Silenced</source>
        <translation>已静音</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="640" />
        <source>Sound on</source>
        <translation>声音开启</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="773" />
        <source>Cleared today (Alt+H)</source>
        <translation>今日已清除 (Alt+H)</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/panel.py" line="777" />
        <source>Review the alerts cleared today: who, when and why</source>
        <translation>查看今日已清除的告警：谁、何时、原因</translation>
    </message>
</context>
<context>
    <name>CaseDetailPanel</name>
    <message>
        <location filename="../../desktop/cases/detail.py" line="173" />
        <location filename="../../desktop/cases/detail.py" line="817" />
        <source>Try again</source>
        <translation>重试</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="176" />
        <source>Dismiss</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="223" />
        <source>Class</source>
        <translation>案件类别</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="224" />
        <source>Deadline</source>
        <translation>处置时限</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="225" />
        <source>Assignee</source>
        <translation>处置单位</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="228" />
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="229" />
        <source>Coordinates</source>
        <translation>坐标</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="230" />
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="232" />
        <source>Reported</source>
        <translation>上报时间</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="233" />
        <source>Reporter</source>
        <translation>反映人</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="234" />
        <source>Extensions / rework</source>
        <translation>延期 / 返工</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="247" />
        <source>No photos or attachments</source>
        <translation>无照片或附件</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="258" />
        <source>Description</source>
        <translation>问题描述</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="260" />
        <source>Photos and attachments</source>
        <translation>照片与附件</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="268" />
        <source>History (newest first)</source>
        <translation>流转记录（最新在前）</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="103" />
        <source>working hours</source>
        <extracomment>Keyboard shortcuts of the step buttons (window-wide while the button is visible). Reveals the reporter's full number. Not Ctrl+Shift+P: that parks the case (STEP_SHORTCUTS). Steps that move a case forward round the loop: drawn as the primary (blue) buttons. Steps that end or undo work: drawn with a red outline so they are not hit by accident. Steps whose dialog needs data from the database first.</extracomment>
        <translation>工作小时</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="104" />
        <source>working days</source>
        <translation>工作日</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="105" />
        <source>minutes</source>
        <translation>分钟</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="226" />
        <source>Town / village</source>
        <translation>镇街 / 村居</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="227" />
        <source>Grid</source>
        <translation>网格</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="231" />
        <source>Work order</source>
        <translation>关联单号</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="264" />
        <source>Linked alerts</source>
        <translation>关联告警</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="280" />
        <source>No step for your role in this state.</source>
        <translation>当前状态下，您的角色没有可办理的操作。</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="286" />
        <source>Reload</source>
        <translation>重新加载</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="287" />
        <source>Read this case again from the database</source>
        <translation>从数据库重新读取此案件</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="291" />
        <source>Select a case in the queue or on the map.</source>
        <translation>请在案件队列或地图上选择一个案件。</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="329" />
        <location filename="../../desktop/cases/detail.py" line="388" />
        <source>Show number</source>
        <translation>显示号码</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="333" />
        <source>Show the reporter's full number to call back; every reveal is recorded (%1)</source>
        <translation>显示反映人完整号码以便回访；每次查看均记入审计 (%1)</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="469" />
        <source>This case no longer exists.</source>
        <translation>此案件已不存在。</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="490" />
        <source>The case could not be read: %1</source>
        <translation>无法读取案件：%1</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="514" />
        <source>Not classified yet</source>
        <translation>尚未分类</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="519" />
        <source>(estimated: the official calendar for that year is missing)</source>
        <translation>（估算值：缺少该年度的法定工作日历）</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="521" />
        <source>limit %1 %2</source>
        <translation>时限 %1 %2</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="525" />
        <source>No deadline yet (the clock starts at dispatch)</source>
        <translation>未计时（派遣后开始计时）</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="361" />
        <source>Not given</source>
        <translation>未提供</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="536" />
        <source>%1 extensions, %2 reworks</source>
        <translation>延期 %1 次，返工 %2 次</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="539" />
        <source>— asking for %1 more %2</source>
        <translation>— 申请延期 %1 %2</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="604" />
        <source>Asked for %1 more %2</source>
        <translation>申请延期 %1 %2</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="630" />
        <source>Parked — the clock is stopped</source>
        <translation>挂账 — 已暂停计时</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="672" />
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="748" />
        <source>The choices for this step could not be read: %1</source>
        <translation>无法读取此操作的可选项：%1</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/detail.py" line="832" />
        <source>%1 done: case %2 is now “%3”.</source>
        <translation>%1已完成：案件 %2 当前状态为“%3”。</translation>
    </message>
</context>
<context>
    <name>CaseQueueModel</name>
    <message>
        <location filename="../../desktop/queue/model.py" line="268" />
        <source>Time left before the deadline, counted in the unit of the class's time limit: working days, working hours or minutes</source>
        <extracomment>Which :data:`db.cases.queries.SORT_COLUMNS` key each column sorts by (in the database). During a layout change: True when it brings changes (the view should stay where it is), False for a new sort order (nothing to stay on).</extracomment>
        <translation>距处置时限的剩余时间，按该类别时限的单位计：工作日、工时或分钟</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/model.py" line="273" />
        <source>Number</source>
        <translation>案件编号</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/model.py" line="273" />
        <source>Class</source>
        <translation>案件类别</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/model.py" line="273" />
        <source>Town</source>
        <translation>镇街</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/model.py" line="273" />
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/model.py" line="274" />
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/model.py" line="274" />
        <source>Urgency</source>
        <translation>紧急程度</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/model.py" line="274" />
        <source>Assignee</source>
        <translation>处置单位</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/model.py" line="274" />
        <source>Time left</source>
        <translation>剩余时间</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/model.py" line="324" />
        <source>Unclassified</source>
        <translation>未分类</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/model.py" line="357" />
        <source>Estimated: the official calendar for that year is missing</source>
        <translation>估算值：缺少该年度的法定工作日历</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/model.py" line="375" />
        <source>Parked</source>
        <translation>挂账</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/model.py" line="377" />
        <source>Handled</source>
        <translation>已处置</translation>
    </message>
</context>
<context>
    <name>ChangePasswordDialog</name>
    <message>
        <location filename="../../desktop/app/signin.py" line="171" />
        <source>CityOps — Choose a new password</source>
        <translation>CityOps — 设置新密码</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="177" />
        <source>You signed in with a one-time password. Choose your own password (at least %1 characters) to finish signing in.</source>
        <translation>您使用的是一次性密码登录。请设置您自己的密码（至少 %1 个字符）以完成登录。</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="185" />
        <source>New password</source>
        <translation>新密码</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="186" />
        <source>Repeat it</source>
        <translation>再次输入</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="189" />
        <source>Change password</source>
        <translation>修改密码</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="203" />
        <source>The new password needs at least %1 characters.</source>
        <translation>新密码至少需要 %1 个字符。</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="206" />
        <source>The two entries differ.</source>
        <translation>两次输入不一致。</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="208" />
        <source>Choose a password other than the one-time password.</source>
        <translation>新密码不能与一次性密码相同。</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="216" />
        <source>Changing the password…</source>
        <translation>正在修改密码…</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="231" />
        <source>The database cannot be reached: %1</source>
        <translation>无法连接数据库：%1</translation>
    </message>
</context>
<context>
    <name>ChildSupervisor</name>
    <message>
        <location filename="../../desktop/app/supervisor.py" line="189" />
        <source>%1 stopped: the database refuses it</source>
        <translation>%1已停止：数据库拒绝其运行</translation>
    </message>
    <message>
        <location filename="../../desktop/app/supervisor.py" line="195" />
        <source>%1 stopped; restarting in %2 s</source>
        <translation>%1已停止，%2 秒后重启</translation>
    </message>
    <message>
        <location filename="../../desktop/app/supervisor.py" line="216" />
        <source>%1 restarted</source>
        <translation>%1已重启</translation>
    </message>
    <message>
        <location filename="../../desktop/app/supervisor.py" line="227" />
        <source>Simulator</source>
        <translation>模拟器</translation>
    </message>
    <message>
        <location filename="../../desktop/app/supervisor.py" line="236" />
        <source>Camera server</source>
        <translation>摄像头服务</translation>
    </message>
</context>
<context>
    <name>CitySettingsDialog</name>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="58" />
        <source>City settings</source>
        <translation>系统设置</translation>
    </message>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="66" />
        <source>These settings are shared by every workstation of the city. Each change is recorded with your name.</source>
        <translation>以下设置由全市所有席位共用，每次修改都会以您的名义记录。</translation>
    </message>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="75" />
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="77" />
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="97" />
        <source>Reading the settings…</source>
        <translation>正在读取设置…</translation>
    </message>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="125" />
        <source>The default; never changed</source>
        <translation>默认值，从未修改</translation>
    </message>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="127" />
        <source>Changed by %1 at %2</source>
        <translation>%1 于 %2 修改</translation>
    </message>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="166" />
        <source>Nothing to save: the settings are as they were.</source>
        <translation>设置未改动，无需保存。</translation>
    </message>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="168" />
        <source>Save settings</source>
        <translation>保存设置</translation>
    </message>
</context>
<context>
    <name>ClearDialog</name>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="163" />
        <location filename="../../desktop/alerts/dialogs.py" line="180" />
        <source>Clear alert</source>
        <translation>消警</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="165" />
        <source>Clear this alert for every workstation?
%1</source>
        <translation>为所有工作站消除此告警？
%1</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="168" />
        <source>It has not been acknowledged yet.</source>
        <translation>该告警尚未确认。</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="175" />
        <source>A critical alarm that is still live (not acknowledged, or its sensor still reads at that level) is cleared only with a reason.</source>
        <translation>紧急告警仍在报警（未确认，或传感器读数仍在该级别），须填写原因才能清除。</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="201" />
        <source>Why (required), e.g. false alarm confirmed on site</source>
        <translation>原因（必填），如：现场确认为误报</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="202" />
        <source>Why (optional), e.g. water receded, false alarm</source>
        <translation>原因（可选），如：积水已退、误报</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="185" />
        <source>Note</source>
        <translation>备注</translation>
    </message>
</context>
<context>
    <name>ClearedTodayView</name>
    <message>
        <location filename="../../desktop/alerts/cleared.py" line="59" />
        <source>Cleared at</source>
        <translation>清除时间</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/cleared.py" line="59" />
        <source>Cleared by</source>
        <translation>清除人</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/cleared.py" line="59" />
        <source>Severity</source>
        <translation>级别</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/cleared.py" line="59" />
        <source>Alert</source>
        <translation>告警</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/cleared.py" line="60" />
        <source>Why</source>
        <translation>原因</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/cleared.py" line="106" />
        <source>%1 alerts cleared today</source>
        <translation>今日已清除 %1 条告警</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/cleared.py" line="114" />
        <source>(no reason given)</source>
        <translation>（未填写原因）</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/cleared.py" line="126" />
        <source>The cleared alerts could not be read: %1</source>
        <translation>无法读取已清除的告警：%1</translation>
    </message>
</context>
<context>
    <name>ClockWarning</name>
    <message>
        <location filename="../../desktop/window/clock_warning.py" line="66" />
        <source>This computer's clock is %1 s behind the database server's; deadlines and countdowns use the server's time.</source>
        <translation>本机时钟比数据库服务器慢 %1 秒；处置时限和倒计时以服务器时间为准。</translation>
    </message>
    <message>
        <location filename="../../desktop/window/clock_warning.py" line="69" />
        <source>This computer's clock is %1 s ahead of the database server's; deadlines and countdowns use the server's time.</source>
        <translation>本机时钟比数据库服务器快 %1 秒；处置时限和倒计时以服务器时间为准。</translation>
    </message>
</context>
<context>
    <name>DispatchDialog</name>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="231" />
        <source>★ %1 — responsible department</source>
        <translation>★ %1 — 责任部门</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="233" />
        <source>%1 — town department</source>
        <translation>%1 — 属地镇街部门</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="239" />
        <source>(no particular person)</source>
        <translation>（不指定人员）</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="245" />
        <source>No grid known for this location</source>
        <translation>该位置没有对应的网格</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="247" />
        <source>Department</source>
        <translation>部门</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="248" />
        <source>Grid</source>
        <translation>网格</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="249" />
        <source>Person</source>
        <translation>人员</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="251" />
        <source>No grid members are known for this case's grid</source>
        <translation>此案件所在网格暂无网格人员信息</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="260" />
        <source>There is no department to dispatch to.</source>
        <translation>没有可派遣的部门。</translation>
    </message>
</context>
<context>
    <name>ExtensionDialog</name>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="275" />
        <source>working days</source>
        <translation>工作日</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="276" />
        <source>working hours</source>
        <translation>工作小时</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="277" />
        <source>minutes</source>
        <translation>分钟</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="279" />
        <source>Extend by</source>
        <translation>延期时长</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="280" />
        <source>Unit</source>
        <translation>单位</translation>
    </message>
</context>
<context>
    <name>FeedbackDialog</name>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="296" />
        <source>Photo references, one per line (optional)</source>
        <translation>照片编号或链接，每行一个（选填）</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="298" />
        <source>Photos</source>
        <translation>照片</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="308" />
        <source>A photo reference is longer than 500 characters.</source>
        <translation>有一条照片编号或链接超过 500 个字符，请缩短后重试。</translation>
    </message>
</context>
<context>
    <name>FirstRunDialog</name>
    <message>
        <location filename="../../desktop/app/signin.py" line="240" />
        <source>CityOps — First start</source>
        <translation>CityOps — 首次启动</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="243" />
        <source>A new database was set up with an administrator account. Sign in with this one-time password; you will then choose your own. Copy it or write it down now: it is not shown again and is stored nowhere.</source>
        <translation>已建立新数据库及管理员账号。请用下面的一次性密码登录，登录后须设置您自己的密码。请现在复制或记下：它不会再次显示，也不保存在任何地方。</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="255" />
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="261" />
        <source>Account</source>
        <translation>账号</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="262" />
        <source>One-time password</source>
        <translation>一次性密码</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="274" />
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
</context>
<context>
    <name>FixOnSpotDialog</name>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="200" />
        <source>(keep the current class)</source>
        <translation>（保留当前类别）</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="202" />
        <source>Class</source>
        <translation>案件类别</translation>
    </message>
</context>
<context>
    <name>HandoverDialog</name>
    <message>
        <location filename="../../desktop/app/handover.py" line="36" />
        <source>CityOps — Shift handover</source>
        <translation>CityOps — 交接班</translation>
    </message>
    <message>
        <location filename="../../desktop/app/handover.py" line="45" />
        <source>Outgoing: %1 (%2)</source>
        <translation>交班人：%1（%2）</translation>
    </message>
    <message>
        <location filename="../../desktop/app/handover.py" line="49" />
        <source>Counting the open work…</source>
        <translation>正在统计未办结工作…</translation>
    </message>
    <message>
        <location filename="../../desktop/app/handover.py" line="54" />
        <source>Handover note (optional)</source>
        <translation>交接说明（可选）</translation>
    </message>
    <message>
        <location filename="../../desktop/app/handover.py" line="57" />
        <location filename="../../desktop/app/handover.py" line="63" />
        <source>Account</source>
        <translation>账号</translation>
    </message>
    <message>
        <location filename="../../desktop/app/handover.py" line="58" />
        <location filename="../../desktop/app/handover.py" line="64" />
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <location filename="../../desktop/app/handover.py" line="61" />
        <source>Note</source>
        <translation>交接说明</translation>
    </message>
    <message>
        <location filename="../../desktop/app/handover.py" line="62" />
        <source>The incoming officer signs in:</source>
        <translation>接班人登录：</translation>
    </message>
    <message>
        <location filename="../../desktop/app/handover.py" line="68" />
        <source>Hand over</source>
        <translation>交接</translation>
    </message>
    <message>
        <location filename="../../desktop/app/handover.py" line="85" />
        <source>Open cases assigned to you: %1 (overdue: %2)
Open cases you registered: %3
Alerts nobody has acknowledged (whole city): %4</source>
        <translation>分派给您的未结案件：%1（超期：%2）
您登记的未结案件：%3
全市未确认的告警：%4</translation>
    </message>
    <message>
        <location filename="../../desktop/app/handover.py" line="96" />
        <source>The incoming officer enters an account and a password.</source>
        <translation>请接班人输入账号和密码。</translation>
    </message>
    <message>
        <location filename="../../desktop/app/handover.py" line="99" />
        <source>Signing in…</source>
        <translation>正在登录…</translation>
    </message>
    <message>
        <location filename="../../desktop/app/handover.py" line="129" />
        <source>The incoming officer must choose a new password to take over.</source>
        <translation>接班人须设置新密码后才能接班。</translation>
    </message>
</context>
<context>
    <name>LinkCaseDialog</name>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="122" />
        <source>Link alert to a case</source>
        <translation>关联告警到案件</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="124" />
        <source>Alert: %1</source>
        <translation>告警：%1</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="127" />
        <source>Case number, e.g. 2026112100000123</source>
        <translation>案件编号，例如 2026112100000123</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="131" />
        <source>Link</source>
        <translation>关联</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="136" />
        <source>Case</source>
        <translation>案件</translation>
    </message>
</context>
<context>
    <name>LockScreen</name>
    <message>
        <location filename="../../desktop/app/lock.py" line="60" />
        <source>Workstation locked</source>
        <translation>工作站已锁定</translation>
    </message>
    <message>
        <location filename="../../desktop/app/lock.py" line="62" />
        <source>Signed in: %1 (%2). Nobody used this desk for a while: enter the password to go on.</source>
        <translation>当前登录：%1（%2）。本席位已有一段时间无人操作，请输入密码继续。</translation>
    </message>
    <message>
        <location filename="../../desktop/app/lock.py" line="68" />
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <location filename="../../desktop/app/lock.py" line="70" />
        <source>Unlock</source>
        <translation>解锁</translation>
    </message>
    <message>
        <location filename="../../desktop/app/lock.py" line="74" />
        <source>Another officer takes over (shift handover)…</source>
        <translation>由其他人员接班（交接班）…</translation>
    </message>
    <message>
        <location filename="../../desktop/app/lock.py" line="137" />
        <source>Checking…</source>
        <translation>正在验证…</translation>
    </message>
</context>
<context>
    <name>LockedAccountsDialog</name>
    <message>
        <location filename="../../desktop/app/lockouts.py" line="30" />
        <source>CityOps — Locked accounts</source>
        <translation>CityOps — 已锁定的账号</translation>
    </message>
    <message>
        <location filename="../../desktop/app/lockouts.py" line="36" />
        <source>Account</source>
        <translation>账号</translation>
    </message>
    <message>
        <location filename="../../desktop/app/lockouts.py" line="36" />
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <location filename="../../desktop/app/lockouts.py" line="36" />
        <source>Role</source>
        <translation>角色</translation>
    </message>
    <message>
        <location filename="../../desktop/app/lockouts.py" line="37" />
        <source>Failed sign-ins</source>
        <translation>登录失败次数</translation>
    </message>
    <message>
        <location filename="../../desktop/app/lockouts.py" line="37" />
        <source>Locked at</source>
        <translation>锁定时间</translation>
    </message>
    <message>
        <location filename="../../desktop/app/lockouts.py" line="43" />
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <location filename="../../desktop/app/lockouts.py" line="46" />
        <source>Unlock</source>
        <translation>解锁</translation>
    </message>
    <message>
        <location filename="../../desktop/app/lockouts.py" line="71" />
        <source>%1 is unlocked.</source>
        <translation>%1 已解锁。</translation>
    </message>
    <message>
        <location filename="../../desktop/app/lockouts.py" line="73" />
        <source>No account is locked.</source>
        <translation>没有被锁定的账号。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../desktop/window/main_window.py" line="79" />
        <location filename="../../desktop/window/main_window.py" line="488" />
        <source>CityOps City Management Command Center</source>
        <translation>CityOps 智慧城管指挥中心</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="90" />
        <source>Loading map…</source>
        <translation>正在加载地图…</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="99" />
        <source>DEMO — signed in automatically as %1 (%2). Demo data, not real cases.</source>
        <translation>演示模式 — 已自动以 %1（%2）身份登录。当前为演示数据，并非真实案件。</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="108" />
        <source>Case queue</source>
        <translation>案件队列</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="109" />
        <source>Case detail</source>
        <translation>案件详情</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="110" />
        <source>Alerts</source>
        <translation>告警</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="111" />
        <source>Video wall</source>
        <translation>视频墙</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="202" />
        <source>%1 · %2</source>
        <translation>%1 · %2</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="155" />
        <source>Refresh everything</source>
        <translation>全部刷新</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="159" />
        <source>Go to the queue</source>
        <translation>转到案件队列</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="163" />
        <source>Go to the most urgent alert</source>
        <translation>转到最紧急的告警</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="167" />
        <source>Next pane</source>
        <translation>下一窗格</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="171" />
        <source>Previous pane</source>
        <translation>上一窗格</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="176" />
        <source>Sign out</source>
        <translation>注销</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="179" />
        <source>Switch user</source>
        <translation>切换用户</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="182" />
        <source>Shift handover</source>
        <translation>交接班</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="188" />
        <source>Locked accounts</source>
        <translation>已锁定账号</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="194" />
        <source>City settings</source>
        <translation>系统设置</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="204" />
        <source>Your session: hand over the shift, switch user, sign out</source>
        <translation>当前会话：交接班、切换用户、注销</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="329" />
        <source>The map could not be built: %1</source>
        <translation>无法生成地图：%1</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="437" />
        <source>No location, so no cameras to show</source>
        <translation>无位置信息，无法显示摄像头</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="440" />
        <source>No camera within %1 km</source>
        <translation>%1 公里内没有摄像头</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="490" />
        <source>(%1 critical) %2</source>
        <translation>（%1 条严重告警）%2</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="524" />
        <source>Scheduled job %1 failed: %2</source>
        <translation>定时任务 %1 执行失败：%2</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="560" />
        <source>● Database connected</source>
        <translation>● 数据库已连接</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="568" />
        <source>Database connection lost since %1. Showing the last known state; case actions are refused until the connection is back.</source>
        <translation>数据库连接自 %1 起中断。当前显示的是最后已知状态；连接恢复前无法办理案件。</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="572" />
        <source>● Database unreachable</source>
        <translation>● 数据库连接中断</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="577" />
        <source>Beijing time %1</source>
        <translation>北京时间 %1</translation>
    </message>
    <message>
        <location filename="../../desktop/window/main_window.py" line="585" />
        <source>A simulator is generating live traffic.</source>
        <translation>模拟器正在生成实时业务数据。</translation>
    </message>
</context>
<context>
    <name>MapView</name>
    <message>
        <location filename="../../desktop/map/view.py" line="664" />
        <source>Open case</source>
        <extracomment>A batch bigger than this (characters of JSON) is sent in pieces, one per event-loop turn: handing the page ~1 MB of script costs the GUI thread ~10 ms. Runs before any script of the page: WebRTC's constructors are gone, so no script on the page can open a peer connection (STUN/TURN traffic to any host and port is no URL request: neither the content-security policy nor the interceptor would see it). A frame has globals of its own, and Qt's document-creation scripts do not run in a frame's first, empty document (``about:blank``, which the policy's ``frame-src 'none'`` does not cover either): a script could take the constructor from there. So every way a page puts nodes into a document (appendChild &amp; co., innerHTML, insertAdjacentHTML, document.write, Range, execCommand, ...) is wrapped to sweep the window's frames, recursively, as soon as the native call returns, and so are the getters that hand a frame's window or document out; a frame's own window gets the same treatment when it is locked. A ``load`` listener catches frames that navigate.</extracomment>
        <translation>打开案件</translation>
    </message>
    <message>
        <location filename="../../desktop/map/view.py" line="668" />
        <source>Play the nearest cameras</source>
        <translation>播放附近摄像头</translation>
    </message>
    <message>
        <location filename="../../desktop/map/view.py" line="671" />
        <source>Copy coordinates</source>
        <translation>复制坐标</translation>
    </message>
</context>
<context>
    <name>QueuePanel</name>
    <message>
        <location filename="../../desktop/queue/panel.py" line="207" />
        <location filename="../../desktop/queue/panel.py" line="377" />
        <location filename="../../desktop/queue/panel.py" line="467" />
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="217" />
        <source>Search number, phone, address or description (Ctrl+F)</source>
        <translation>搜索案件编号、电话、地址或问题描述（Ctrl+F）</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="220" />
        <source>Overdue</source>
        <translation>已超期</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="222" />
        <source>Show only cases past their deadline</source>
        <translation>仅显示已超过处置时限的案件</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="223" />
        <source>Mine</source>
        <translation>我的</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="225" />
        <source>Show only cases assigned to me</source>
        <translation>仅显示派给我的案件</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="235" />
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="236" />
        <source>Open cases</source>
        <translation>未结案件</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="239" />
        <source>All cases</source>
        <translation>全部案件</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="242" />
        <source>Town</source>
        <translation>镇街</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="243" />
        <source>All towns</source>
        <translation>全部镇街</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="245" />
        <source>Class</source>
        <translation>案件类别</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="246" />
        <source>All classes</source>
        <translation>全部类别</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="248" />
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="249" />
        <source>All sources</source>
        <translation>全部来源</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="411" />
        <source>Case %1 is not in the current filter (%2) — press Enter to open it</source>
        <translation>案件 %1 不在当前筛选中（%2）— 按 Enter 打开</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="426" />
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="605" />
        <source>%1 cases</source>
        <translation>共 %1 件案件</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="607" />
        <source>No cases match these filters</source>
        <translation>没有符合筛选条件的案件</translation>
    </message>
    <message>
        <location filename="../../desktop/queue/panel.py" line="612" />
        <source>Queue not updated: %1</source>
        <translation>案件队列未能更新：%1</translation>
    </message>
</context>
<context>
    <name>SensorTrend</name>
    <message>
        <location filename="../../desktop/alerts/sensor_trend.py" line="134" />
        <source>The readings could not be read: %1</source>
        <translation>无法读取监测数据：%1</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/sensor_trend.py" line="225" />
        <source>Blue</source>
        <translation>蓝色</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/sensor_trend.py" line="225" />
        <source>Yellow</source>
        <translation>黄色</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/sensor_trend.py" line="225" />
        <source>Orange</source>
        <translation>橙色</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/sensor_trend.py" line="226" />
        <source>Red</source>
        <translation>红色</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/sensor_trend.py" line="226" />
        <source>Alarm</source>
        <translation>报警</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/sensor_trend.py" line="226" />
        <source>Cut-off</source>
        <translation>切断</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/sensor_trend.py" line="233" />
        <source>no reading</source>
        <translation>无读数</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/sensor_trend.py" line="234" />
        <source>%1 · last 24 h · now %2 · %3 readings</source>
        <translation>%1 · 近24小时 · 当前 %2 · %3 个读数</translation>
    </message>
</context>
<context>
    <name>SignInDialog</name>
    <message>
        <location filename="../../desktop/app/signin.py" line="84" />
        <source>CityOps — Sign in</source>
        <translation>CityOps — 登录</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="91" />
        <source>City Management Command Center</source>
        <translation>智慧城管指挥中心</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="94" />
        <location filename="../../desktop/app/signin.py" line="98" />
        <source>Account</source>
        <translation>账号</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="95" />
        <location filename="../../desktop/app/signin.py" line="99" />
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="102" />
        <source>Sign in</source>
        <translation>登录</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="115" />
        <source>Enter your account and password.</source>
        <translation>请输入账号和密码。</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="118" />
        <source>Signing in…</source>
        <translation>正在登录…</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="126" />
        <source>This was a one-time password: choose your own.</source>
        <translation>这是一次性密码：请设置您自己的密码。</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="153" />
        <source>Choose a new password to finish signing in.</source>
        <translation>请设置新密码以完成登录。</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="43" />
        <source>Wrong account or password.</source>
        <translation>账号或密码错误，请重新输入。</translation>
    </message>
    <message>
        <location filename="../../desktop/app/signin.py" line="45" />
        <source>The database cannot be reached: %1</source>
        <translation>无法连接数据库：%1</translation>
    </message>
</context>
<context>
    <name>StepDialog</name>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="63" />
        <source>%1 — case %2</source>
        <translation>%1 — 案件 %2</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="75" />
        <source>Required: say what was done or why</source>
        <translation>必填：请说明处理情况或原因</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="77" />
        <source>Optional</source>
        <translation>选填</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="78" />
        <source>Opinion (required)</source>
        <translation>处理意见（必填）</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="80" />
        <source>Opinion</source>
        <translation>处理意见</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="92" />
        <source>Ctrl+Enter</source>
        <translation>Ctrl+Enter</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="94" />
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="123" />
        <source>The opinion is too long: %1 of at most %2 characters.</source>
        <translation>处理意见过长：已输入 %1 个字符，最多 %2 个。</translation>
    </message>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="127" />
        <source>The opinion contains a character that cannot be saved.</source>
        <translation>处理意见中含有无法保存的字符，请删除后重试。</translation>
    </message>
</context>
<context>
    <name>ToCaseDialog</name>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="45" />
        <source>Turn alert into a case</source>
        <translation>告警转为案件</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="48" />
        <source>Alert: %1</source>
        <translation>告警：%1</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="56" />
        <source>(classify at acceptance)</source>
        <translation>（受理时再分类）</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="65" />
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="66" />
        <source>Location</source>
        <translation>位置</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="67" />
        <source>Class</source>
        <translation>案件类别</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="68" />
        <source>Urgency</source>
        <translation>紧急程度</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="69" />
        <source>Description</source>
        <translation>问题描述</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="75" />
        <source>Create case</source>
        <translation>生成案件</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="91" />
        <source>Describe the problem.</source>
        <translation>请描述问题。</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="93" />
        <source>The description is longer than %1 characters.</source>
        <translation>问题描述超过 %1 个字符。</translation>
    </message>
    <message>
        <location filename="../../desktop/alerts/dialogs.py" line="96" />
        <source>Choose a class from the list.</source>
        <translation>请从列表中选择类别。</translation>
    </message>
</context>
<context>
    <name>VideoTile</name>
    <message>
        <location filename="../../desktop/video/tile.py" line="120" />
        <source>not a playable stream</source>
        <translation>无法播放的视频流</translation>
    </message>
    <message>
        <location filename="../../desktop/video/tile.py" line="122" />
        <source>the stream ended</source>
        <translation>视频流已中断</translation>
    </message>
    <message>
        <location filename="../../desktop/video/tile.py" line="291" />
        <source>no stream address</source>
        <translation>无视频流地址</translation>
    </message>
    <message>
        <location filename="../../desktop/video/tile.py" line="373" />
        <source>no answer within %1 s</source>
        <translation>%1 秒内无响应</translation>
    </message>
    <message>
        <location filename="../../desktop/video/tile.py" line="375" />
        <source>no picture for %1 s</source>
        <translation>%1 秒无画面</translation>
    </message>
    <message>
        <location filename="../../desktop/video/tile.py" line="409" />
        <source>No camera. Click a camera on the map to show it here.</source>
        <translation>无摄像头。点击地图上的摄像头在此播放。</translation>
    </message>
    <message>
        <location filename="../../desktop/video/tile.py" line="414" />
        <source>Double-click (or Enter) to enlarge; Esc restores.</source>
        <translation>双击（或回车）放大；Esc 还原。</translation>
    </message>
    <message>
        <location filename="../../desktop/video/tile.py" line="424" />
        <source>Live</source>
        <translation>直播</translation>
    </message>
    <message>
        <location filename="../../desktop/video/tile.py" line="426" />
        <source>Connecting…</source>
        <translation>连接中…</translation>
    </message>
    <message>
        <location filename="../../desktop/video/tile.py" line="430" />
        <source>Signal lost · retry in %1 s</source>
        <translation>信号中断 · %1 秒后重试</translation>
    </message>
    <message>
        <location filename="../../desktop/video/tile.py" line="431" />
        <location filename="../../desktop/video/tile.py" line="499" />
        <source>Signal lost</source>
        <translation>信号中断</translation>
    </message>
    <message>
        <location filename="../../desktop/video/tile.py" line="432" />
        <location filename="../../desktop/video/tile.py" line="470" />
        <location filename="../../desktop/video/tile.py" line="475" />
        <source>No camera</source>
        <translation>无摄像头</translation>
    </message>
</context>
<context>
    <name>VideoWall</name>
    <message>
        <location filename="../../desktop/video/wall.py" line="86" />
        <source>Show %1 camera(s) (key %2)</source>
        <translation>显示 %1 路画面（按键 %2）</translation>
    </message>
    <message>
        <location filename="../../desktop/video/wall.py" line="88" />
        <source>Layout %1</source>
        <translation>布局 %1</translation>
    </message>
    <message>
        <location filename="../../desktop/video/wall.py" line="297" />
        <source>No camera within %1 km</source>
        <translation>%1 公里内没有摄像头</translation>
    </message>
    <message>
        <location filename="../../desktop/video/wall.py" line="330" />
        <source>No camera selected: pick a case, an alert or a camera on the map</source>
        <translation>未选择摄像头：请选择案件、告警或地图上的摄像头</translation>
    </message>
    <message>
        <location filename="../../desktop/video/wall.py" line="333" />
        <source>%1 live</source>
        <translation>%1 路在线</translation>
    </message>
    <message>
        <location filename="../../desktop/video/wall.py" line="335" />
        <source>%1 connecting</source>
        <translation>%1 路连接中</translation>
    </message>
    <message>
        <location filename="../../desktop/video/wall.py" line="337" />
        <source>%1 signal lost</source>
        <translation>%1 路信号中断</translation>
    </message>
    <message>
        <location filename="../../desktop/video/wall.py" line="339" />
        <source>farthest %1 km</source>
        <translation>最远 %1 km</translation>
    </message>
</context>
<context>
    <name>alerts</name>
    <message>
        <location filename="../../desktop/core/labels.py" line="63" />
        <source>Critical</source>
        <translation>严重</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="63" />
        <source>Major</source>
        <translation>重要</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="64" />
        <source>Minor</source>
        <translation>一般</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="64" />
        <source>Warning</source>
        <translation>提示</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="65" />
        <source>Active</source>
        <translation>未确认</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="66" />
        <source>Acknowledged</source>
        <translation>已确认</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="67" />
        <source>Cleared</source>
        <translation>已消警</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="68" />
        <source>Sensor</source>
        <translation>物联感知</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="68" />
        <source>Video analytics</source>
        <translation>视频分析</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="69" />
        <source>110 transfer</source>
        <translation>110转办</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="69" />
        <source>119 transfer</source>
        <translation>119转办</translation>
    </message>
</context>
<context>
    <name>errors</name>
    <message>
        <location filename="../../desktop/core/errors.py" line="44" />
        <source>This {entity} was changed by {changed_by} at {when}. It has been refreshed; please check it and try again.</source>
        <translation>此{entity}已被 {changed_by} 于 {when} 修改，已重新读取；请核对后再操作。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="46" />
        <source>The database is unreachable; nothing was changed. Try again when the connection is back.</source>
        <translation>无法连接数据库，未做任何更改。请在连接恢复后重试。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="49" />
        <source>The database is busy; nothing was changed. Try again in a moment.</source>
        <translation>数据库繁忙，未做任何更改。请稍后重试。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="51" />
        <source>{entity} {id} does not exist.</source>
        <translation>{entity} {id} 不存在。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="52" />
        <source>No case has the number {ref}.</source>
        <translation>没有编号为 {ref} 的案件。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="53" />
        <source>{ref} is not a case number.</source>
        <translation>{ref} 不是有效的案件编号。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="54" />
        <source>This account does not exist or is disabled.</source>
        <translation>账号不存在或已停用。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="55" />
        <source>Wrong account name or password.</source>
        <translation>账号或密码错误。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="56" />
        <source>The current password is wrong.</source>
        <translation>当前密码错误。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="57" />
        <source>Too many failed sign-ins. Wait {seconds} s, then try again.</source>
        <translation>登录失败次数过多，请等待 {seconds} 秒后再试。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="59" />
        <source>This account is locked after too many failed sign-ins. A shift leader or an administrator can unlock it.</source>
        <translation>登录失败次数过多，该账号已锁定。请联系值班长或管理员解锁。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="62" />
        <source>Only a shift leader or an administrator may unlock accounts.</source>
        <translation>只有值班长或管理员可以解锁账号。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="64" />
        <source>The account {username} is not locked.</source>
        <translation>账号 {username} 未被锁定。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="65" />
        <source>The incoming officer must sign in with another account than the outgoing one.</source>
        <translation>接班人须使用与交班人不同的账号登录。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="67" />
        <source>The new password needs at least {minimum} characters.</source>
        <translation>新密码至少需要 {minimum} 个字符。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="69" />
        <source>The new password must differ from the current one.</source>
        <translation>新密码不能与当前密码相同。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="71" />
        <source>The connection dropped while saving and the database cannot be asked yet whether it was saved. It is checked as soon as the connection is back; trying again is safe and never does it twice.</source>
        <translation>保存时连接中断，暂时无法向数据库确认是否已保存。连接恢复后将自动核对；重试是安全的，不会重复执行。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="75" />
        <source>This request was already used for another action; nothing was done.</source>
        <translation>该请求编号已用于另一项操作，本次未执行。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="77" />
        <source>The request id is not valid; nothing was done.</source>
        <translation>请求编号无效，未执行。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="78" />
        <source>A {role} may not {step} a case that is “{state}”.</source>
        <translation>{role}无权对“{state}”的案件执行“{step}”。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="80" />
        <source>A {role} may not register cases.</source>
        <translation>{role}无权登记案件。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="81" />
        <source>A {role} may not act on alerts.</source>
        <translation>{role}无权处理告警。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="82" />
        <source>This case is not yours to act on: a {role} works only on the cases assigned to them, to their grid or to their department.</source>
        <translation>此案件不在您的处置范围内：{role}只能处理派给本人、本网格或本部门的案件。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="85" />
        <source>{name} has been deactivated: the case cannot be dispatched to them.</source>
        <translation>{name} 已停用，不能将案件派遣给其处置。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="87" />
        <source>The case is “{state}”; it cannot {step}.</source>
        <translation>案件处于“{state}”，不能“{step}”。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="88" />
        <source>The alert has been cleared already.</source>
        <translation>告警已清除，无需确认。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="89" />
        <source>This critical alarm is still live (not acknowledged, or its sensor still reads at that level): say why you clear it.</source>
        <translation>该紧急告警仍在报警（未确认，或传感器读数仍在该级别）：请填写清除原因。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="92" />
        <source>The phone number is not valid: digits, spaces, dashes and brackets only, 3 to 20 digits.</source>
        <translation>电话号码无效：只能包含数字、空格、短横线和括号，共 3 至 20 位数字。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="95" />
        <source>This database has no key for reporters' phone numbers yet. An administrator runs “cityops db make-key” and installs the key file on every workstation.</source>
        <translation>本数据库还没有反映人电话号码密钥。请管理员运行“cityops db make-key”，并在每台工作站安装密钥文件。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="98" />
        <source>Phone number key {key_id} is not installed on this workstation (looked for {path}). Ask an administrator for the key file.</source>
        <translation>本工作站未安装电话号码密钥 {key_id}（查找位置：{path}）。请向管理员索取密钥文件。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="101" />
        <source>The key file {path} belongs to another database (key {file_id}, this database uses {key_id}). Ask an administrator for this database's key file.</source>
        <translation>密钥文件 {path} 属于另一个数据库（密钥 {file_id}，本数据库使用 {key_id}）。请向管理员索取本数据库的密钥文件。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="104" />
        <source>The phone number key file {path} may be read by other users ({mode}) and is not used. Make it readable by you only: chmod 600 {path}</source>
        <translation>电话号码密钥文件 {path} 其他用户可读（{mode}），已停用。请设为仅本人可读：chmod 600 {path}</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="107" />
        <source>{path} is not a CityOps phone number key file.</source>
        <translation>{path} 不是 CityOps 电话号码密钥文件。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="109" />
        <source>This database already has a phone number key ({key_id}); nothing was changed.</source>
        <translation>本数据库已有电话号码密钥（{key_id}），未做任何更改。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="111" />
        <source>The stored phone number does not open with this database's key: it was altered, or sealed with another key.</source>
        <translation>存储的电话号码无法用本数据库的密钥解开：已被改动，或是用其他密钥加密的。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="114" />
        <source>A {role} may not see the reporter's full phone number.</source>
        <translation>{role}无权查看反映人完整号码。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="116" />
        <source>The setting {field} is not valid: {value}</source>
        <translation>设置 {field} 无效：{value}</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="117" />
        <source>There is no setting called {field}.</source>
        <translation>没有名为 {field} 的设置。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="118" />
        <source>A {role} may not change the city settings.</source>
        <translation>{role}无权修改系统设置。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="119" />
        <source>The alert is already linked to case {number}.</source>
        <translation>告警已关联案件 {number}。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="121" />
        <source>The alert has no location: link it to a case or register the case by hand.</source>
        <translation>告警没有位置，请改用“关联案件”或人工登记。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="123" />
        <source>Version {seen} is not valid (now {current}).</source>
        <translation>版本号 {seen} 无效（当前为 {current}）。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="124" />
        <source>A time must carry its time zone (UTC).</source>
        <translation>时间必须带时区（UTC）。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="125" />
        <source>Event times come from the database server's clock; a time given by the caller is not accepted.</source>
        <translation>事件时间以数据库服务器时钟为准，不接受调用方给出的时间。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="128" />
        <source>{field} must be text.</source>
        <translation>{field}必须是文本。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="129" />
        <source>{field} contains invalid characters.</source>
        <translation>{field}含有无效的字符编码。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="130" />
        <source>{field} contains a control character ({char}).</source>
        <translation>{field}含有不允许的控制字符（{char}）。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="132" />
        <source>{field} is too long: {length} characters, at most {limit}.</source>
        <translation>{field}过长：{length} 字，最多 {limit} 字。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="134" />
        <source>Please fill in {field}.</source>
        <translation>请填写{field}。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="135" />
        <source>The case has no class yet, so its time limit is unknown.</source>
        <translation>案件尚未分类，无法计算处置时限。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="137" />
        <source>Unknown channel or urgency: {reason}</source>
        <translation>来源或紧急程度无效：{reason}</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="138" />
        <source>The database holds no city yet.</source>
        <translation>数据库中还没有城市数据。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="139" />
        <source>Case class {id} does not exist.</source>
        <translation>案件类别 {id} 不存在。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="140" />
        <source>Department {id} does not exist.</source>
        <translation>部门 {id} 不存在。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="141" />
        <source>Staff member {id} does not exist.</source>
        <translation>人员 {id} 不存在。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="142" />
        <source>Account {id} does not exist.</source>
        <translation>账号 {id} 不存在。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="143" />
        <source>Extension of {amount} {unit} is not valid (at most {limit}).</source>
        <translation>延期 {amount} {unit} 无效（最多 {limit}）。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="145" />
        <source>There is no extension request to approve.</source>
        <translation>没有待批准的延期申请。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="146" />
        <source>This case was fixed on the spot, never dispatched: it cannot be reworked. Register it again.</source>
        <translation>此案件为当即办理，未经派遣，不能返工，请重新登记。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="149" />
        <source>The deadline cannot be computed: {reason}</source>
        <translation>无法计算处置时限：{reason}</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="150" />
        <source>Invalid coordinates: {value}</source>
        <translation>坐标无效：{value}</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="151" />
        <source>{field} is missing.</source>
        <translation>缺少{field}。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="152" />
        <source>{field} must be a whole number (got {value}).</source>
        <translation>{field}必须是整数（收到 {value}）。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="154" />
        <source>{field} must be a finite number (got {value}).</source>
        <translation>{field}必须是有限的数值（收到 {value}）。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="156" />
        <source>{field} must be between {minimum} and {maximum} (got {value}).</source>
        <translation>{field}必须在 {minimum} 到 {maximum} 之间（收到 {value}）。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="158" />
        <source>{field} must be a list (got {value}).</source>
        <translation>{field}必须是列表（收到 {value}）。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="159" />
        <source>{field} is not a known value: {value}</source>
        <translation>{field}不是可用的取值：{value}</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="160" />
        <source>Unknown unit of time for an extension: {unit}</source>
        <translation>延期的时间单位无效：{unit}</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="162" />
        <source>{field} {id} does not exist.</source>
        <translation>{field} {id} 不存在。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="163" />
        <source>An alarm must be a record of named fields (got {value}).</source>
        <translation>告警必须是由字段组成的记录（收到 {value}）。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="165" />
        <source>The point ({lat}, {lon}) is outside the city.</source>
        <translation>坐标 ({lat}, {lon}) 不在本市范围内。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="166" />
        <source>The database account {role} does not own the schema: only its owner or a superuser may build demo data (demo mode signs accounts in without a password). Run “cityops demo --db URL” with the owner's URL.</source>
        <translation>数据库账号 {role} 不是表结构所有者：只有所有者或超级用户才能生成演示数据（演示模式下账号无需密码即可登录）。请用所有者的地址运行“cityops demo --db URL”。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="170" />
        <source>The database account {role} is a {kind}: a workstation may connect only as the application role, which cannot change the database's rules. An administrator sets the roles up once with “cityops db setup-roles --superuser-url URL”, then starts CityOps with the application role's URL (its password in the PGPASSFILE file).</source>
        <translation>数据库账号 {role} 是{kind}：工作站只能以应用角色连接，应用角色不能更改数据库的规则。请管理员先运行一次“cityops db setup-roles --superuser-url URL”设置角色，再用应用角色的地址启动 CityOps（其密码写在 PGPASSFILE 文件中）。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="175" />
        <source>The database schema is at version {current}, not the current {head}, and the application role may not change it. An administrator runs “cityops db migrate --owner-url URL” first.</source>
        <translation>数据库结构版本为 {current}，不是最新的 {head}，应用角色不能修改结构。请管理员先运行“cityops db migrate --owner-url URL”。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="179" />
        <source>The database URL of {option} contains a password: refused. Give the URL without it and put the password in libpq's password file (PGPASSFILE, readable only by you) or in PGPASSWORD.</source>
        <translation>{option} 的数据库地址含有密码，已拒绝。请在地址中去掉密码，并把密码写入 libpq 的密码文件（PGPASSFILE，仅本人可读）或 PGPASSWORD 环境变量。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="187" />
        <source>superuser</source>
        <translation>超级用户</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="188" />
        <source>schema owner</source>
        <translation>表结构所有者</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="193" />
        <source>the opinion</source>
        <translation>意见</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="194" />
        <source>the description</source>
        <translation>问题描述</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="195" />
        <source>the address</source>
        <translation>地址</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="196" />
        <source>the title</source>
        <translation>标题</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="197" />
        <source>the reporter</source>
        <translation>反映人</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="198" />
        <source>the phone number</source>
        <translation>联系电话</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="199" />
        <source>an attachment</source>
        <translation>附件</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="200" />
        <source>the work-order number</source>
        <translation>工单号</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="201" />
        <source>the note</source>
        <translation>备注</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="202" />
        <source>the case number</source>
        <translation>案件编号</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="203" />
        <source>the account</source>
        <translation>账号</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="204" />
        <source>the version</source>
        <translation>版本号</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="205" />
        <source>the case</source>
        <translation>案件</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="206" />
        <source>the alert</source>
        <translation>告警</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="207" />
        <source>the department</source>
        <translation>部门</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="208" />
        <source>the staff member</source>
        <translation>人员</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="209" />
        <source>the case class</source>
        <translation>案件类别</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="210" />
        <source>the city</source>
        <translation>城市</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="211" />
        <source>the channel</source>
        <translation>来源</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="212" />
        <source>the urgency</source>
        <translation>紧急程度</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="213" />
        <source>the extension</source>
        <translation>延期时长</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="214" />
        <source>the latitude</source>
        <translation>纬度</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="215" />
        <source>the longitude</source>
        <translation>经度</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="216" />
        <source>the reading</source>
        <translation>读数</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="217" />
        <source>the sensor</source>
        <translation>传感器</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="218" />
        <source>the camera</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="219" />
        <source>the town</source>
        <translation>镇街</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="220" />
        <source>the position fixes</source>
        <translation>位置</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="223" />
        <source>working hours</source>
        <translation>工时</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="224" />
        <source>working days</source>
        <translation>工作日</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="225" />
        <source>minutes</source>
        <translation>分钟</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="228" />
        <source>case</source>
        <translation>案件</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="229" />
        <source>alert</source>
        <translation>告警</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="230" />
        <source>sensor</source>
        <translation>传感器</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="231" />
        <source>scheduled job</source>
        <translation>定时任务</translation>
    </message>
    <message>
        <location filename="../../desktop/core/errors.py" line="301" />
        <source>Unexpected error: {error}</source>
        <translation>意外错误：{error}</translation>
    </message>
</context>
<context>
    <name>is.self</name>
    <message>
        <location filename="../../desktop/cases/step_dialogs.py" line="211" />
        <source>Choose a class from the list, or keep the current one.</source>
        <translation>请从列表中选择类别，或保留当前类别。</translation>
    </message>
</context>
<context>
    <name>labels</name>
    <message>
        <location filename="../../desktop/core/labels.py" line="32" />
        <source>Awaiting acceptance</source>
        <translation>待受理</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="32" />
        <source>Awaiting opening</source>
        <translation>待立案</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="33" />
        <source>Awaiting dispatch</source>
        <translation>待派遣</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="33" />
        <source>Being handled</source>
        <translation>处置中</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="34" />
        <source>Extension requested</source>
        <translation>延期待批</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="34" />
        <source>Parked</source>
        <translation>挂账</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="35" />
        <source>Awaiting check</source>
        <translation>待核查</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="35" />
        <source>Awaiting closing</source>
        <translation>待结案</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="36" />
        <source>Closed</source>
        <translation>已结案</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="36" />
        <location filename="../../desktop/core/labels.py" line="44" />
        <source>Void</source>
        <translation>作废</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="39" />
        <source>Accept</source>
        <translation>受理</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="39" />
        <source>Open case</source>
        <translation>立案</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="39" />
        <source>Dispatch</source>
        <translation>派遣</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="40" />
        <source>Return</source>
        <translation>回退</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="40" />
        <source>Report handled</source>
        <translation>处置反馈</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="41" />
        <source>Request extension</source>
        <translation>申请延期</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="41" />
        <source>Approve extension</source>
        <translation>批准延期</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="42" />
        <source>Reject extension</source>
        <translation>驳回延期</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="42" />
        <source>Park</source>
        <translation>挂账</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="42" />
        <source>Resume</source>
        <translation>恢复处置</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="43" />
        <source>Check passed</source>
        <translation>核查通过</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="43" />
        <source>Rework</source>
        <translation>返工</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="43" />
        <source>Close case</source>
        <translation>结案</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="44" />
        <source>Fixed on the spot</source>
        <translation>当即办理</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="90" />
        <source>Reported</source>
        <translation>上报</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="124" />
        <source>%1 wd over</source>
        <translation>超%1工作日</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="125" />
        <source>%1 wd left</source>
        <translation>剩%1工作日</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="129" />
        <source>%1 wh %2 m over</source>
        <translation>超%1工时%2分</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="130" />
        <source>%1 wh %2 m left</source>
        <translation>剩%1工时%2分</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="133" />
        <source>%1 min over</source>
        <translation>超%1分钟</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="134" />
        <source>%1 min left</source>
        <translation>剩%1分钟</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="146" />
        <location filename="../../desktop/core/labels.py" line="151" />
        <source>due %1</source>
        <translation>截止 %1</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="149" />
        <source>due today %1</source>
        <translation>截止 今天 %1</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="52" />
        <source>Normal</source>
        <translation>一般</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="52" />
        <source>Urgent</source>
        <translation>紧急</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="52" />
        <source>Emergency</source>
        <translation>特急</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="59" />
        <source>Overdue</source>
        <translation>已超期</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="59" />
        <source>Due soon</source>
        <translation>即将超期</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="59" />
        <source>On track</source>
        <translation>正常</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="60" />
        <source>No deadline</source>
        <translation>未计时</translation>
    </message>
</context>
<context>
    <name>map</name>
    <message>
        <location filename="../../desktop/map/page.py" line="86" />
        <source>City outline</source>
        <translation>市界</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="86" />
        <source>Towns</source>
        <translation>镇街</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="86" />
        <source>Grids</source>
        <translation>网格</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="87" />
        <source>Cases</source>
        <translation>案件</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="87" />
        <source>Staff</source>
        <translation>人员</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="87" />
        <source>Cameras</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="87" />
        <source>Sensors</source>
        <translation>传感器</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="88" />
        <source>Black spots</source>
        <translation>黑点</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="91" />
        <source>No.</source>
        <translation>编号</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="91" />
        <source>Class</source>
        <translation>类别</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="91" />
        <source>Town</source>
        <translation>镇街</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="91" />
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="92" />
        <source>Urgency</source>
        <translation>紧急程度</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="92" />
        <location filename="../../desktop/map/page.py" line="96" />
        <source>Deadline</source>
        <translation>处置时限</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="92" />
        <source>On duty</source>
        <translation>在岗</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="93" />
        <source>Off duty</source>
        <translation>离岗</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="93" />
        <source>Position at</source>
        <translation>定位时间</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="93" />
        <source>Camera</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="94" />
        <source>Video analytics</source>
        <translation>视频分析</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="94" />
        <source>Sensor</source>
        <translation>传感器</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="94" />
        <source>Reading</source>
        <translation>读数</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="95" />
        <source>Level</source>
        <translation>等级</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="95" />
        <source>Black spot</source>
        <translation>黑点</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="95" />
        <source>Failed rechecks</source>
        <translation>复查未通过</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="96" />
        <source>No reading</source>
        <translation>无读数</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="98" />
        <source>Water level</source>
        <translation>积水水位</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="98" />
        <source>Combustible gas</source>
        <translation>可燃气体</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="100" />
        <source>Unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="100" />
        <source>Normal</source>
        <translation>正常</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="100" />
        <source>Blue</source>
        <translation>蓝色</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="100" />
        <source>Yellow</source>
        <translation>黄色</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="101" />
        <source>Orange</source>
        <translation>橙色</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="101" />
        <source>Red</source>
        <translation>红色</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="101" />
        <source>Alarm</source>
        <translation>报警</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="101" />
        <source>Cut-off</source>
        <translation>切断</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="103" />
        <source>Fixed</source>
        <translation>固定</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="103" />
        <source>PTZ</source>
        <translation>云台</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="103" />
        <source>Dome</source>
        <translation>球机</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="105" />
        <source>Village</source>
        <translation>村居</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="105" />
        <source>Road</source>
        <translation>道路</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="105" />
        <source>Market</source>
        <translation>市场</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="105" />
        <source>Park</source>
        <translation>公园</translation>
    </message>
    <message>
        <location filename="../../desktop/map/page.py" line="106" />
        <source>Public toilet</source>
        <translation>公厕</translation>
    </message>
</context>
<context>
    <name>operations</name>
    <message>
        <location filename="../../desktop/core/operations.py" line="111" />
        <source>Another action is still running; wait for it to finish.</source>
        <translation>另一项操作仍在进行，请等待其完成。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/operations.py" line="155" />
        <source>%1 was not done: the connection dropped before it was saved. Try again.</source>
        <translation>%1未执行：保存前连接已中断。请重试。</translation>
    </message>
    <message>
        <location filename="../../desktop/core/operations.py" line="161" />
        <source>%1: working…</source>
        <translation>%1：处理中…</translation>
    </message>
    <message>
        <location filename="../../desktop/core/operations.py" line="166" />
        <source>%1 done.</source>
        <translation>%1已完成。</translation>
    </message>
</context>
<context>
    <name>roles</name>
    <message>
        <location filename="../../desktop/core/labels.py" line="54" />
        <source>Duty officer</source>
        <translation>值班员</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="54" />
        <source>Dispatcher</source>
        <translation>派遣员</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="55" />
        <source>Shift leader</source>
        <translation>值班长</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="55" />
        <source>Leader</source>
        <translation>领导</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="55" />
        <source>Inspector</source>
        <translation>监督员</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="56" />
        <source>Field officer</source>
        <translation>处置人员</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="56" />
        <source>Department handler</source>
        <translation>部门处置员</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="57" />
        <source>Administrator</source>
        <translation>管理员</translation>
    </message>
</context>
<context>
    <name>self.model</name>
    <message>
        <location filename="../../desktop/queue/panel.py" line="316" />
        <source>Time left</source>
        <translation>剩余时间</translation>
    </message>
</context>
<context>
    <name>settings</name>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="33" />
        <source>When a parked case resumes</source>
        <extracomment>What each setting is called and what its choices mean, in the user's language.</extracomment>
        <translation>挂账案件恢复处置时</translation>
    </message>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="34" />
        <source>Group alerts of one type within</source>
        <translation>同类告警归并距离</translation>
    </message>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="35" />
        <source>Group alerts that began within</source>
        <translation>同类告警归并时间窗</translation>
    </message>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="36" />
        <source>Lock an account after failed sign-ins</source>
        <translation>连续登录失败多少次后锁定账号</translation>
    </message>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="37" />
        <source>Lock an unattended workstation after</source>
        <translation>席位无人操作多久后自动锁定</translation>
    </message>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="38" />
        <source>Keep the ids of writes (for retries) for</source>
        <translation>操作请求编号（用于重试核对）保留</translation>
    </message>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="41" />
        <source>Give back the time that was left (extensions included)</source>
        <translation>恢复挂账时剩余的处置时间（含已批准的延期）</translation>
    </message>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="42" />
        <source>Start the whole time limit again</source>
        <translation>重新计算完整处置时限</translation>
    </message>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="44" />
        <source> m</source>
        <translation> 米</translation>
    </message>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="44" />
        <source> min</source>
        <translation> 分钟</translation>
    </message>
    <message>
        <location filename="../../desktop/settings/dialog.py" line="45" />
        <source> days</source>
        <translation> 天</translation>
    </message>
</context>
<context>
    <name>sources</name>
    <message>
        <location filename="../../desktop/core/labels.py" line="47" />
        <source>12345 hotline</source>
        <translation>12345热线</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="47" />
        <source>110 transfer</source>
        <translation>110转办</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="48" />
        <source>119 transfer</source>
        <translation>119转办</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="48" />
        <source>Inspector</source>
        <translation>监督员上报</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="49" />
        <source>Video detection</source>
        <translation>视频识别</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="49" />
        <source>Sensor</source>
        <translation>物联感知</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="49" />
        <source>Leader</source>
        <translation>领导交办</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="50" />
        <source>Enterprise line</source>
        <translation>企业直通车</translation>
    </message>
    <message>
        <location filename="../../desktop/core/labels.py" line="50" />
        <source>Walk-in</source>
        <translation>来访</translation>
    </message>
</context>
<context>
    <name>startup</name>
    <message>
        <location filename="../../desktop/app/run.py" line="93" />
        <source>CityOps</source>
        <translation>CityOps</translation>
    </message>
</context>
</TS>