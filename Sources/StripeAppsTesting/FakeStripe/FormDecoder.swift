import Foundation
import StripeApps

/// Decodes `application/x-www-form-urlencoded` text with Stripe's bracketed keys into an ordered nested value.
///
/// `metadata[plan]=pro` becomes an object, `expand[]=a&expand[]=b` an array, and `items[0][price]=p_1` an array
/// too: an object whose keys are exactly `0`, `1`, … `n-1` is turned into an array in index order, as Stripe's
/// servers do. Every leaf is a string. Keys are percent-decoded before their brackets are read, so `%5B`/`%5D`
/// work. The result is always a ``PayloadValue/object(_:)``.
struct FormDecoder {
    /// Why a form could not be decoded.
    struct Failure: Error, Sendable {
        /// The offending (decoded) key, when one is to blame.
        let key: String?
        /// A sentence for the error message.
        let message: String
    }

    /// Decodes `text`; an empty string gives an empty object.
    static func decode(_ text: String) throws(Failure) -> PayloadValue {
        var root = Node.map([])
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = try percentDecode(parts[0], key: nil)
            let value = parts.count > 1 ? try percentDecode(parts[1], key: key) : ""
            guard !key.isEmpty else { continue }
            let path = try segments(of: key)
            try insert(value, at: path[...], into: &root, key: key)
        }
        return root.payloadValue
    }

    /// One step of a key: `[name]` (or the leading name) or `[]`.
    private enum Segment: Equatable {
        case name(String)
        case append
    }

    /// The decoded tree, before objects with integer keys become arrays.
    private indirect enum Node {
        case leaf(String)
        case list([Node])
        case map([(String, Node)])

        var payloadValue: PayloadValue {
            switch self {
            case .leaf(let value): return .string(value)
            case .list(let nodes): return .array(nodes.map(\.payloadValue))
            case .map(let fields):
                if !fields.isEmpty, let ordered = Self.indexed(fields) {
                    return .array(ordered.map(\.payloadValue))
                }
                return .object(fields.map { PayloadField($0.0, $0.1.payloadValue) })
            }
        }

        /// The values in index order when the keys are exactly `0..<count`, else `nil`.
        private static func indexed(_ fields: [(String, Node)]) -> [Node]? {
            var slots = [Node?](repeating: nil, count: fields.count)
            for (key, node) in fields {
                guard let index = Int(key), String(index) == key, index >= 0, index < fields.count,
                    slots[index] == nil
                else { return nil }
                slots[index] = node
            }
            let filled = slots.compactMap { $0 }
            return filled.count == fields.count ? filled : nil
        }
    }

    private static func percentDecode(_ text: Substring, key: String?) throws(Failure) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        guard let decoded = spaced.removingPercentEncoding else {
            throw Failure(key: key, message: "Invalid percent-encoding in `\(key ?? String(text))`.")
        }
        return decoded
    }

    /// Splits `a[b][]` into `a`, `b`, append.
    private static func segments(of key: String) throws(Failure) -> [Segment] {
        guard let open = key.firstIndex(of: "[") else { return [.name(key)] }
        let base = String(key[..<open])
        guard !base.isEmpty else { throw Failure(key: key, message: "Invalid parameter name `\(key)`.") }
        var result: [Segment] = [.name(base)]
        var rest = key[open...]
        while !rest.isEmpty {
            guard rest.first == "[", let close = rest.firstIndex(of: "]") else {
                throw Failure(key: key, message: "Invalid parameter name `\(key)`.")
            }
            let inner = rest[rest.index(after: rest.startIndex)..<close]
            guard !inner.contains("[") else { throw Failure(key: key, message: "Invalid parameter name `\(key)`.") }
            result.append(inner.isEmpty ? .append : .name(String(inner)))
            rest = rest[rest.index(after: close)...]
        }
        return result
    }

    private static func conflict(_ key: String) -> Failure {
        Failure(key: key, message: "Invalid parameters: `\(key)` conflicts with another parameter of the same name.")
    }

    private static func insert(
        _ value: String,
        at path: ArraySlice<Segment>,
        into node: inout Node,
        key: String
    ) throws(Failure) {
        guard let first = path.first else { return }
        let rest = path.dropFirst()
        switch (node, first) {
        case (.map(var fields), .name(let name)):
            let existing = fields.firstIndex { $0.0 == name }
            if rest.isEmpty {
                if let existing {
                    guard case .leaf = fields[existing].1 else { throw conflict(key) }
                    fields[existing].1 = .leaf(value)
                } else {
                    fields.append((name, .leaf(value)))
                }
            } else {
                var child = existing.map { fields[$0].1 } ?? (rest.first == .append ? .list([]) : .map([]))
                try insert(value, at: rest, into: &child, key: key)
                if let existing { fields[existing].1 = child } else { fields.append((name, child)) }
            }
            node = .map(fields)
        case (.list(var nodes), .append):
            if rest.isEmpty {
                nodes.append(.leaf(value))
            } else {
                // `a[][b]=1&a[][c]=2` fills one object until a key repeats, as Rack does.
                guard case .name(let name) = rest.first else { throw conflict(key) }
                if case .map(let fields) = nodes.last, !fields.contains(where: { $0.0 == name }), var last = nodes.last
                {
                    try insert(value, at: rest, into: &last, key: key)
                    nodes[nodes.count - 1] = last
                } else {
                    var fresh = Node.map([])
                    try insert(value, at: rest, into: &fresh, key: key)
                    nodes.append(fresh)
                }
            }
            node = .list(nodes)
        default:
            throw conflict(key)
        }
    }
}
