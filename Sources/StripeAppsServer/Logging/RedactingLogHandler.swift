import Foundation
public import Logging
import StripeAppsAPI

/// A log handler that removes anything shaped like a secret from every line before another handler writes it.
///
/// The message and every metadata value go through the credential redaction of the Stripe client (`sk_`, `rk_`,
/// `rt_`, `ac_`, `whsec_` and `absec_` words become `sk_live_[redacted]`…) and lose any `v1=` signature. It is
/// the last line of defence: the server logs paths without their query string and never logs secrets, codes or
/// signatures on purpose, but an error's description or an app's own log line could carry one.
public struct RedactingLogHandler<Base: LogHandler>: LogHandler {
    /// The handler that writes the redacted lines.
    public var base: Base

    /// Wraps `base`.
    public init(_ base: Base) {
        self.base = base
    }

    public var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    public var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        let message = event.message.description
        if CredentialRedaction.mayNeedRedaction(message) { event.message = "\(LogRedaction.redact(message))" }
        event.metadata = event.metadata.map(LogRedaction.redact)
        // The handler's own metadata (request id, tenant) is merged by `base`: redact it there too, when it needs it
        // (most lines hold nothing to redact, and copying the handler's metadata for each would cost more).
        guard LogRedaction.mayNeedRedaction(base.metadata) else { return base.log(event: event) }
        var base = self.base
        base.metadata = LogRedaction.redact(base.metadata)
        base.log(event: event)
    }
}

/// What ``RedactingLogHandler`` and the inbox's stored errors remove.
package enum LogRedaction {
    /// `text` without key- or token-shaped words and without `v1=` signatures.
    package static func redact(_ text: String) -> String {
        CredentialRedaction.mayNeedRedaction(text) ? redactScanning(text) : text
    }

    /// ``redact(_:)`` without the one-pass check first: the full scan, which the tests hold the check against.
    package static func redactScanning(_ text: String) -> String {
        let keysRemoved = CredentialRedaction.redactScanning(text)
        guard keysRemoved.contains("v1=") else { return keysRemoved }
        // A Stripe-Signature's `v1=<64 hex>`: the MAC is no secret, but it is a credential for its payload.
        var output = ""
        var rest = Substring(keysRemoved)
        while let range = rest.range(of: "v1=") {
            output += rest[..<range.upperBound]
            rest = rest[range.upperBound...]
            let mac = rest.prefix { $0.isHexDigit }
            if mac.count >= 16 {
                output += "[redacted]"
                rest = rest.dropFirst(mac.count)
            }
        }
        return output + rest
    }

    static func redact(_ metadata: Logger.Metadata) -> Logger.Metadata {
        mayNeedRedaction(metadata) ? metadata.mapValues(redact) : metadata
    }

    /// Whether any value of `metadata` may hold something to redact (see `CredentialRedaction.mayNeedRedaction`).
    static func mayNeedRedaction(_ metadata: Logger.Metadata) -> Bool {
        metadata.values.contains(where: mayNeedRedaction)
    }

    static func mayNeedRedaction(_ value: Logger.MetadataValue) -> Bool {
        switch value {
        case .string(let text): CredentialRedaction.mayNeedRedaction(text)
        case .stringConvertible(let convertible): CredentialRedaction.mayNeedRedaction(convertible.description)
        case .array(let values): values.contains(where: mayNeedRedaction)
        case .dictionary(let dictionary): mayNeedRedaction(dictionary)
        }
    }

    static func redact(_ value: Logger.MetadataValue) -> Logger.MetadataValue {
        switch value {
        case .string(let text): .string(redact(text))
        case .stringConvertible(let convertible): .string(redact(convertible.description))
        case .array(let values): .array(values.map(redact))
        case .dictionary(let dictionary): .dictionary(dictionary.mapValues(redact))
        }
    }
}
