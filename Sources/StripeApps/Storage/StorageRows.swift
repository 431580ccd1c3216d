/// Every row of a storage, table by table, for copying one backend into another (`migrate --from … --to …`).
///
/// Raw records, not role-store calls: a copy keeps what the stores never hand out, such as an installation's
/// last change time, an event's fencing token or the order of the audit log.
package struct StorageRows: Sendable {
    package var metadata: [(key: String, value: String)] = []
    package var installations: [Installation] = []
    package var settings: [(tenant: Tenant, document: SettingsDocument)] = []
    package var installStates: [InstallState] = []
    package var inbox: [(event: InboxEvent, token: Int64)] = []
    package var audit: [AuditRecord] = []
    package var credentials: [StoredCredential] = []
    package var jobs: [(job: JobRecord, token: Int64)] = []

    package init() {}

    /// The number of rows of each table, in copy order.
    package var counts: [(table: String, rows: Int)] {
        [
            ("app_metadata", metadata.count), ("installations", installations.count), ("settings", settings.count),
            ("install_states", installStates.count), ("inbox_events", inbox.count), ("audit_log", audit.count),
            ("tenant_credentials", credentials.count), ("jobs", jobs.count),
        ]
    }
}
