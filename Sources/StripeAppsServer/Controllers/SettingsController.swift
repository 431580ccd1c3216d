import Foundation
import Hummingbird
import Logging
import StripeApps

/// The per-tenant settings document: `GET /api/settings` reads it, `POST /api/settings` changes it.
///
/// A write is the signed payload itself, flat as `fetchStripeSignature` extra values must be:
/// `{"mode":"test","version":3,"theme":"dark","limit":10,"unset":"old_key","user_id":…,"account_id":…}`.
/// Every member that is not reserved (`mode`, `version`, `unset`, `user_id`, `account_id`, `stripe_roles`)
/// sets a value; `unset` lists names to remove, comma-separated. `version` must be the version the writer
/// read (0 for a tenant without settings), else the answer is 409 with the current version.
/// The payload members a settings write does not store.
private let settingsReservedKeys: Set<String> = ["mode", "version", "unset", "user_id", "account_id", "stripe_roles"]

struct SettingsController<Settings: SettingsStore> {
    let store: Settings
    /// The largest stored document, as compact JSON.
    let maximumDocumentBytes: Int

    static var reservedKeys: Set<String> { settingsReservedKeys }
    static var maximumKeyLength: Int { 64 }
    static var maximumStringBytes: Int { 4096 }

    func register(on api: RouterGroup<VerifiedRequestContext>) {
        api.get("settings") { _, context in
            let tenant = try context.user.tenant()
            return Self.response(tenant: tenant, document: try await store.settings(for: tenant))
        }
        api.post("settings") { _, context in
            let tenant = try context.user.tenant()
            let change = try Self.change(from: context.user.payload)
            let limit = maximumDocumentBytes
            let document = try await store.updateSettings(for: tenant, expectedVersion: change.version) { values in
                for name in change.unset { values[name] = nil }
                values.merge(change.set) { $1 }
                let size = SettingsDocument(version: 0, values: values, updatedAt: nil).valuesJSON.utf8.count
                guard size <= limit else {
                    throw APIError(
                        .contentTooLarge,
                        code: "settings_too_large",
                        message: "The settings would take \(size) bytes; the limit is \(limit) bytes."
                    )
                }
            }
            context.logger.info("settings updated", metadata: ["settings.version": "\(document.version)"])
            return Self.response(tenant: tenant, document: document)
        }
    }

    struct Change {
        var version: Int
        var set: [String: PayloadValue] = [:]
        var unset: [String] = []
    }

    static func change(from payload: UIRequestPayload) throws(APIError) -> Change {
        guard case .number(let number)? = payload[extra: "version"], number >= 0, number < 1e15,
            number == number.rounded()
        else {
            throw invalid("Send the version you read as \"version\" (a whole number, 0 when there are no settings).")
        }
        var change = Change(version: Int(number))
        if let unset = payload[extra: "unset"] {
            guard let names = unset.stringValue else { throw invalid("\"unset\" must be a comma-separated string.") }
            change.unset = names.split(separator: ",").map(String.init)
            for name in change.unset { try validate(key: name) }
        }
        for field in payload.extra where !reservedKeys.contains(field.key) {
            try validate(key: field.key)
            switch field.value {
            case .string(let text) where text.utf8.count <= maximumStringBytes: break
            case .string: throw invalid("The value of \(field.key) is longer than \(maximumStringBytes) bytes.")
            case .number, .bool: break
            default: throw invalid("The value of \(field.key) must be a string, a number or a boolean.")
            }
            change.set[field.key] = field.value
        }
        guard !change.set.isEmpty || !change.unset.isEmpty else {
            throw invalid("The write changes nothing: send at least one value to set or a name in \"unset\".")
        }
        return change
    }

    private static func validate(key: String) throws(APIError) {
        let allowed = key.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
        }
        guard allowed, !key.isEmpty, key.utf8.count <= maximumKeyLength, !reservedKeys.contains(key) else {
            throw invalid(
                "Setting names are 1 to \(maximumKeyLength) characters of A-Z, a-z, 0-9, '_', '-' and '.', "
                    + "and may not be a reserved name (\(reservedKeys.sorted().joined(separator: ", ")))."
            )
        }
    }

    private static func invalid(_ message: String) -> APIError {
        .badRequest("invalid_settings", message)
    }

    static func response(tenant: Tenant, document: SettingsDocument) -> Response {
        let values = document.values.sorted { $0.key < $1.key }.map { PayloadField($0.key, $0.value) }
        return Response.json(
            .object([
                PayloadField("account_id", .string(tenant.accountID)),
                PayloadField("mode", .string(tenant.mode.description)),
                PayloadField("version", .number(Double(document.version))),
                PayloadField("values", .object(values)),
                PayloadField(
                    "updated_at",
                    document.updatedAt.map { .number($0.timeIntervalSince1970.rounded(.down)) } ?? .null
                ),
            ])
        )
    }
}
