import AsyncHTTPClient
import Foundation
import NIOCore

extension HTTPClient {
    /// Sends a simulation's request; a failure to reach the server is `connection_failed` in plain words
    /// ("cannot connect to 127.0.0.1:8080: connection refused") instead of the client library's error dump.
    func send(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        do {
            return try await execute(request, timeout: .seconds(30))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let url = URL(string: request.url)
            let place = url.map {
                "\($0.host ?? "?"):\($0.port.map(String.init) ?? ($0.scheme == "https" ? "443" : "80"))"
            }
            throw CommandError(
                "connection_failed",
                "cannot connect to \(place ?? request.url): \(plainConnectionReason(error)). Is the server running there?"
            )
        }
    }
}

/// Why a connection failed, as a person would say it.
func plainConnectionReason(_ error: any Error) -> String {
    if let error = error as? IOError {
        return String(cString: strerror(error.errnoCode)).lowercased()
    }
    // NIOPosix's NIOConnectionError wraps the lookup's SocketAddressError; its text is the only way to it here.
    if error is SocketAddressError || "\(error)".contains("UnknownHost") { return "unknown host" }
    if let error = error as? HTTPClientError {
        switch error {
        case .connectTimeout: return "no connection within the time limit"
        case .deadlineExceeded, .readTimeout: return "no answer within 30 s"
        case .remoteConnectionClosed: return "the server closed the connection"
        default: return "\(error)"
        }
    }
    return "\(error)"
}
