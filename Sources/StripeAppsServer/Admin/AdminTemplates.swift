/// The admin page's Mustache templates and style sheet, compiled into the module.
///
/// Embedded rather than shipped as resources: the `stripe-apps-backend` binary then serves its admin page
/// wherever it is copied, with no resource bundle to find at run time (a missing `Bundle.module` stops the
/// process), and `swift run`, tests and release builds read the same text. Every `{{value}}` is HTML-escaped
/// by Mustache (`&`, `<`, `>`, `"`, `'`); the only unescaped insertion is `{{{body}}}`, the output of another
/// template. No template has a script or an inline style: the pages' CSP forbids both.
enum AdminTemplates {
    static let all: [String: String] = [
        "layout": layout, "login": login, "message": message, "overview": overview, "installations": installations,
        "tenant": tenant, "eventTable": eventTable, "inbox": inbox, "event": event, "bulk": bulk, "jobs": jobs,
        "job": job,
    ]

    static let layout = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
        {{#refresh}}<meta http-equiv="refresh" content="{{refresh}}">{{/refresh}}
        <title>{{title}} · stripe-apps-backend admin</title>
        <link rel="stylesheet" href="/admin/assets/admin.css"></head>
        <body data-code="{{code}}">
        <header><strong>stripe-apps-backend</strong>
        {{#session}}<nav><a href="/admin">Overview</a> <a href="/admin/installations">Installations</a>
        <a href="/admin/inbox">Inbox</a> <a href="/admin/jobs">Jobs</a></nav>
        <span class="who" id="who">{{actor}}{{#readOnly}} (read-only){{/readOnly}}</span>
        <form method="post" action="/admin/logout" class="inline"><input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit" id="logout">Log out</button></form>{{/session}}
        </header>
        <main>
        <h1>{{title}}</h1>
        {{#notice}}<p class="notice" id="notice">{{notice}}</p>{{/notice}}
        {{#refreshable}}<p class="refresh">{{#refresh}}Refreshing every {{refresh}} s.
        <a href="{{pauseHref}}" id="pause">Pause</a>{{/refresh}}{{^refresh}}<a href="{{refreshHref}}" id="autorefresh">Refresh
        every 10 s</a>{{/refresh}}</p>{{/refreshable}}
        {{{body}}}
        </main>{{#troubleshooting}}<footer><p class="help">{{troubleshooting}}</p></footer>{{/troubleshooting}}</body></html>
        """

    static let login = """
        <form method="post" action="/admin/login" class="login">
        <label for="token">Admin token</label>
        <input type="password" id="token" name="token" autocomplete="current-password" required autofocus>
        <button type="submit" id="login">Log in</button>
        </form>
        <p>Use <code>ADMIN_TOKEN</code> for a full session, <code>ADMIN_READONLY_TOKEN</code> for a read-only one.</p>
        """

    static let message = """
        <p class="message">{{message}}</p>
        {{#back}}<p><a href="{{back}}">Back</a></p>{{/back}}
        """

    static let overview = """
        <section><h2>Installations</h2>
        <table><tr><th>Mode</th><th>Active</th><th>Inactive</th></tr>
        {{#installations}}<tr><td>{{mode}}</td><td><a href="{{activeHref}}">{{active}}</a></td>
        <td><a href="{{inactiveHref}}">{{inactive}}</a></td></tr>{{/installations}}
        </table></section>
        <section><h2>Inbox</h2>
        <table><tr><th>Status</th><th>Events</th></tr>
        {{#inbox}}<tr><td><a href="{{href}}">{{status}}</a></td><td id="inbox-{{status}}">{{count}}</td></tr>{{/inbox}}
        </table>
        <p>Oldest pending event: {{#oldestPending}}received {{oldestPending}}{{/oldestPending}}{{^oldestPending}}none{{/oldestPending}}</p>
        </section>
        <section><h2>Failing handlers</h2>
        {{#hasFailing}}<table><tr><th>Event type</th><th>Failed</th><th>Dead</th><th>Last error</th></tr>
        {{#failing}}<tr><td><a href="{{href}}">{{type}}</a></td><td>{{failed}}</td><td>{{dead}}</td>
        <td class="error">{{lastError}}</td></tr>{{/failing}}</table>
        <p class="hint">Among the newest {{failingSample}} failed and dead events.</p>{{/hasFailing}}
        {{^failing}}<p>No failed or dead events.</p>{{/failing}}
        </section>
        <section><h2>Jobs</h2>
        <table><tr><th>Status</th><th>Jobs</th></tr>
        {{#jobs}}<tr><td><a href="{{href}}">{{status}}</a></td><td>{{count}}</td></tr>{{/jobs}}
        </table>
        <p>Oldest waiting job due: {{#oldestWaitingJob}}{{oldestWaitingJob}}{{/oldestWaitingJob}}{{^oldestWaitingJob}}none{{/oldestWaitingJob}}</p>
        </section>
        """

    static let installations = """
        <form method="get" action="/admin/installations" class="filters">
        <label>Account <input name="q" value="{{q}}" placeholder="acct_…"></label>
        <label>Mode <select name="mode">{{#modes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/modes}}</select></label>
        <label>Status <select name="status">{{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statuses}}</select></label>
        <label>Blocked <select name="blocked">{{#blockedOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/blockedOptions}}</select></label>
        <button type="submit">Filter</button></form>
        <table><tr><th>Account</th><th>Mode</th><th>Status</th><th>Installed</th><th>Last change</th><th>Blocked</th></tr>
        {{#rows}}<tr{{#blocked}} class="blocked"{{/blocked}}><td><a href="{{href}}">{{account}}</a></td><td>{{mode}}</td><td>{{status}}</td><td>{{created}}</td>
        <td>{{changed}}</td><td class="block">{{blocked}}</td></tr>{{/rows}}
        </table>
        {{^rows}}<p>No installation matches.</p>{{/rows}}
        {{#next}}<p><a href="{{next}}" id="next">Next page</a></p>{{/next}}
        """

    static let tenant = """
        {{#installation}}<dl><dt>Status</dt><dd id="status">{{status}}</dd><dt>Installed</dt><dd>{{created}}</dd>
        <dt>Last change</dt><dd>{{changed}} ({{changedBy}})</dd>
        <dt>Blocked</dt><dd id="blocked">{{#block}}since {{since}} by {{by}}{{#reason}}: {{reason}}{{/reason}}{{/block}}{{^block}}no{{/block}}</dd></dl>
        {{#canAct}}<div class="actions">{{#block}}<form method="post" action="{{unblockAction}}" class="inline"><input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit" id="unblock">Unblock</button></form>{{/block}}
        {{^block}}<form method="post" action="{{blockAction}}" class="inline"><input type="hidden" name="csrf" value="{{csrf}}">
        <label>Reason <input name="reason" id="block-reason" maxlength="{{maximumReason}}" placeholder="why, for the audit log"></label>
        <button type="submit" id="block" class="danger">Block this tenant</button></form>{{/block}}
        <p class="hint">A blocked tenant's calls get 403 tenant_blocked, its webhooks are kept without running and its jobs are cancelled.</p>
        </div>{{/canAct}}{{/installation}}
        {{^installation}}<p>The app was never installed for this tenant.</p>{{/installation}}
        <h2>Settings keys</h2>
        {{#hasSettings}}<p>Version {{settingsVersion}}: {{#settingsKeys}}<code>{{.}}</code> {{/settingsKeys}}</p>{{/hasSettings}}
        {{^settingsKeys}}<p>No settings.</p>{{/settingsKeys}}
        <h2>Recent events</h2>
        {{> eventTable}}
        <p><a href="{{allEvents}}">All events of this tenant</a></p>
        <h2>Audit log</h2>
        <table><tr><th>When</th><th>Action</th><th>Reason</th></tr>
        {{#audit}}<tr><td>{{date}}</td><td>{{action}}</td><td>{{reason}}</td></tr>{{/audit}}</table>
        {{^audit}}<p>Nothing recorded.</p>{{/audit}}
        """

    static let eventTable = """
        <table class="events"><tr><th>Received</th><th>Event</th><th>Type</th><th>Account</th><th>Mode</th><th>Status</th>
        <th>Attempts</th><th>Last error</th></tr>
        {{#events}}<tr class="{{status}}"><td>{{received}}</td><td><a href="{{href}}" class="event-link">{{id}}</a></td>
        <td>{{type}}</td><td>{{account}}</td><td>{{mode}}</td><td class="status">{{status}}</td><td>{{attempts}}</td>
        <td class="error">{{error}}</td></tr>{{/events}}
        </table>
        {{^events}}<p>No event matches.</p>{{/events}}
        """

    static let inbox = """
        <form method="get" action="/admin/inbox" class="filters">
        <label>Status <select name="status">{{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statuses}}</select></label>
        <label>Type <input name="type" value="{{type}}" placeholder="customer.created"></label>
        <label>Account <input name="account" value="{{account}}" placeholder="acct_…"></label>
        <label>Mode <select name="mode">{{#modes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/modes}}</select></label>
        <button type="submit">Filter</button></form>
        {{> eventTable}}
        {{#next}}<p><a href="{{next}}" id="next">Next page</a></p>{{/next}}
        {{#canAct}}{{#hasEvents}}<p><a href="{{bulkHref}}" id="bulk-replay">Replay every event matching this filter…</a></p>{{/hasEvents}}{{/canAct}}
        """

    static let event = """
        <dl><dt>Id</dt><dd id="event-id">{{id}}</dd><dt>Type</dt><dd>{{type}}</dd>
        <dt>Account</dt><dd>{{#tenantHref}}<a href="{{tenantHref}}">{{account}}</a>{{/tenantHref}}{{^tenantHref}}none{{/tenantHref}} ({{mode}})</dd>
        <dt>Status</dt><dd id="status" class="{{status}}">{{status}}{{#discarded}} (discarded){{/discarded}}</dd>
        <dt>Attempts</dt><dd>{{attempts}}</dd><dt>Received</dt><dd>{{received}}</dd>
        <dt>Created (Stripe)</dt><dd>{{created}}</dd>
        {{#nextAttempt}}<dt>Next attempt</dt><dd>{{nextAttempt}}</dd>{{/nextAttempt}}
        {{#lease}}<dt>Leased to</dt><dd>{{lease}}</dd>{{/lease}}
        </dl>
        {{#error}}<h2>Last error</h2><pre class="error" id="last-error">{{error}}</pre>{{/error}}
        {{#canAct}}<div class="actions">
        {{#replayable}}<form method="post" action="{{replayAction}}" class="inline"><input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit" id="replay">Replay</button></form>{{/replayable}}
        {{#discardable}}<form method="post" action="{{discardAction}}" class="inline"><input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit" id="discard" class="danger">Discard</button></form>{{/discardable}}
        </div>{{/canAct}}
        <h2>Payload</h2>
        {{#payload}}<pre id="payload">{{payload}}</pre>{{/payload}}
        {{^payload}}<p>The payload was deleted (pruned after EVENT_RETENTION_DAYS, purged at uninstall, or discarded): the event can no longer be replayed.</p>{{/payload}}
        """

    static let bulk = """
        <p>This makes every event matching the filter below pending again, newest first, at most {{cap}} at a time,
        skipping events that are running or have no payload. Each runs its handlers again.</p>
        <dl>{{#conditions}}<dt>{{name}}</dt><dd>{{value}}</dd>{{/conditions}}</dl>
        {{^conditions}}<p class="danger">No filter: this replays events of every status, succeeded ones included.</p>{{/conditions}}
        <form method="post" action="/admin/inbox/bulk-replay"><input type="hidden" name="csrf" value="{{csrf}}">
        {{#fields}}<input type="hidden" name="{{name}}" value="{{value}}">{{/fields}}
        <button type="submit" id="confirm-bulk-replay">Replay up to {{cap}} events</button>
        <a href="{{cancelHref}}">Cancel</a></form>
        """

    static let jobs = """
        <h2>Schedules</h2>
        <table><tr><th>Schedule</th><th>Job</th><th>When</th><th>Per installation</th><th>Next slot</th><th>Handled through</th></tr>
        {{#schedules}}<tr><td>{{name}}</td><td>{{job}}</td><td>{{timing}}</td><td>{{perInstallation}}</td><td>{{next}}</td>
        <td>{{handled}}</td></tr>{{/schedules}}</table>
        {{^schedules}}<p>No schedule has run yet.</p>{{/schedules}}
        <h2>Jobs</h2>
        <form method="get" action="/admin/jobs" class="filters">
        <label>Status <select name="status">{{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statuses}}</select></label>
        <button type="submit">Filter</button></form>
        <table><tr><th>Queued</th><th>Job</th><th>Name</th><th>Tenant</th><th>Status</th><th>Attempts</th><th>Run at</th>
        <th>Progress</th><th>Last error</th></tr>
        {{#jobs}}<tr><td>{{queued}}</td><td><a href="{{href}}">{{id}}</a></td><td>{{name}}</td><td>{{tenant}}</td>
        <td class="status">{{status}}</td><td>{{attempts}}</td><td>{{runAt}}</td><td>{{progress}}</td>
        <td class="error">{{error}}</td></tr>{{/jobs}}</table>
        {{^jobs}}<p>No job matches.</p>{{/jobs}}
        <p class="hint">The newest {{limit}} jobs.</p>
        """

    static let job = """
        <dl><dt>Id</dt><dd>{{id}}</dd><dt>Name</dt><dd>{{name}}</dd><dt>Tenant</dt><dd>{{tenant}}</dd>
        <dt>Status</dt><dd id="status">{{status}}{{#cancelRequested}} (asked to stop){{/cancelRequested}}</dd>
        <dt>Attempts</dt><dd>{{attempts}} of {{maxAttempts}}</dd><dt>Priority</dt><dd>{{priority}}</dd>
        <dt>Queued</dt><dd>{{queued}}</dd><dt>Run at</dt><dd>{{runAt}}</dd>
        {{#finished}}<dt>Finished</dt><dd>{{finished}}</dd>{{/finished}}
        {{#progress}}<dt>Progress</dt><dd>{{progress}}</dd>{{/progress}}
        {{#lease}}<dt>Leased to</dt><dd>{{lease}}</dd>{{/lease}}
        {{#slot}}<dt>Schedule slot</dt><dd>{{slot}}</dd>{{/slot}}
        </dl>
        {{#error}}<h2>Last error</h2><pre class="error">{{error}}</pre>{{/error}}
        {{#canAct}}<div class="actions">
        {{#cancellable}}<form method="post" action="{{cancelAction}}" class="inline"><input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit" id="cancel" class="danger">Cancel</button></form>{{/cancellable}}
        {{#replayable}}<form method="post" action="{{replayAction}}" class="inline"><input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit" id="replay">Replay</button></form>{{/replayable}}
        </div>{{/canAct}}
        <h2>Parameters</h2><pre>{{parameters}}</pre>
        """

    /// The style sheet served at `/admin/assets/admin.css`.
    static let styleSheet = """
        body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1a1f36; background: #f6f8fa; }
        header { display: flex; gap: 1.5em; align-items: center; padding: .6em 1.2em; background: #1a1f36; color: #fff; }
        header a { color: #c9d3ff; margin-right: .8em; }
        header .who { margin-left: auto; }
        main { padding: 1em 1.2em; }
        table { border-collapse: collapse; background: #fff; margin: .5em 0 1em; }
        th, td { border: 1px solid #dde3ea; padding: .3em .6em; text-align: left; vertical-align: top; }
        td.error, pre.error { color: #a3122b; max-width: 40em; overflow-wrap: anywhere; }
        pre { background: #fff; border: 1px solid #dde3ea; padding: .8em; overflow: auto; max-height: 40em; }
        form.inline { display: inline; }
        form.filters label { margin-right: 1em; }
        .notice { background: #e3f5e8; border: 1px solid #9bd3ab; padding: .5em .8em; }
        .danger { color: #a3122b; }
        .hint, .refresh { color: #59677a; }
        tr.dead td.status, tr.failed td.status { color: #a3122b; font-weight: bold; }
        tr.succeeded td.status { color: #1d7b3a; }
        tr.blocked td.block, tr.blocked td.status, #blocked { color: #a3122b; }
        dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
        dt { font-weight: bold; }
        dd { margin: 0; }
        """
}
