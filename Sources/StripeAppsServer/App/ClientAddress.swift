import Foundation
import HTTPTypes
public import Hummingbird
public import NIOCore

extension AppConfiguration {
    /// The address a request came from, for per-client limits: the last entry of ``clientAddressHeader`` when one
    /// is configured and present (a proxy appends the address it saw to `X-Forwarded-For`, so earlier entries are
    /// the client's own claims), else the connection's peer.
    public func clientAddress(of request: Request, peer: SocketAddress?) -> String {
        if let header = clientAddressHeader, let name = HTTPField.Name(header),
            let value = request.headers[values: name].last
        {
            let last = value.split(separator: ",").last.map { $0.trimmingCharacters(in: CharacterSet.whitespaces) }
            if let last, !last.isEmpty { return String(last.prefix(64)) }
        }
        return peer?.ipAddress ?? "unknown"
    }
}
