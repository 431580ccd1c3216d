/// Removes anything that looks like a Stripe key or token from text that may reach a log or an error.
///
/// Stripe masks keys in its own messages (`sk_test_****1234`), but messages also come from proxies, fakes and
/// our own code; this is the last line of defence, so it errs on the side of redacting.
package enum CredentialRedaction {
    /// Prefixes of Stripe secrets: secret, restricted and OAuth keys, refresh tokens, webhook and app secrets.
    private static let prefixes = ["sk_", "rk_", "rt_", "ac_", "whsec_", "absec_"]

    /// Whether `text` may hold a secret prefix (`sk_`, `rk_`, `rt_`, `ac_`, `…ec_`) or a `v1=` signature: one pass
    /// over the bytes, looking back two bytes from each `_` and `=`. It may say yes where there is none (`spec_`)
    /// but never no where there is one; most log lines hold neither, and the full scan is left to those that do.
    package static func mayNeedRedaction(_ text: String) -> Bool {
        var previous: (UInt8, UInt8) = (0, 0)
        for byte in text.utf8 {
            switch (byte, previous) {
            case (UInt8(ascii: "_"), (UInt8(ascii: "s"), UInt8(ascii: "k"))),
                (UInt8(ascii: "_"), (UInt8(ascii: "r"), UInt8(ascii: "k"))),
                (UInt8(ascii: "_"), (UInt8(ascii: "r"), UInt8(ascii: "t"))),
                (UInt8(ascii: "_"), (UInt8(ascii: "a"), UInt8(ascii: "c"))),
                (UInt8(ascii: "_"), (UInt8(ascii: "e"), UInt8(ascii: "c"))),
                (UInt8(ascii: "="), (UInt8(ascii: "v"), UInt8(ascii: "1"))):
                return true
            default:
                previous = (previous.1, byte)
            }
        }
        return false
    }

    /// `text` with every word that starts with a secret prefix and is not already masked replaced.
    package static func redact(_ text: String) -> String {
        mayNeedRedaction(text) ? redactScanning(text) : text
    }

    /// ``redact(_:)`` without the one-pass check first: the full scan, which the tests hold the check against.
    package static func redactScanning(_ text: String) -> String {
        guard prefixes.contains(where: { text.contains($0) }) else { return text }
        var output = ""
        var word = ""
        for character in text {
            if character.isLetter || character.isNumber || character == "_" || character == "*" {
                word.append(character)
            } else {
                output += redactedWord(word)
                word = ""
                output.append(character)
            }
        }
        return output + redactedWord(word)
    }

    private static func redactedWord(_ word: String) -> String {
        guard var prefix = prefixes.first(where: { word.hasPrefix($0) }) else { return word }
        // Keep the mode, which helps debugging and is no secret: `sk_live_[redacted]`.
        for mode in ["live_", "test_"] where word.dropFirst(prefix.count).hasPrefix(mode) {
            prefix += mode
        }
        let rest = word.dropFirst(prefix.count)
        // Stripe's own masking keeps the mode and the last four characters: `sk_test_****abcd`.
        if rest.contains("****") { return word }
        return rest.count <= 5 ? word : "\(prefix)[redacted]"
    }
}
