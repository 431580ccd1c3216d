import HTTPTypes
import Hummingbird

extension Router {
    /// Answers 405 with an `Allow` header for the common methods a path does not serve.
    ///
    /// Hummingbird answers 404 for a known path with an unknown method; this registers the other methods on
    /// the router itself, outside any authentication group, so the answer is the same signed or not.
    func methodNotAllowed(_ path: RouterPath, allowed: [HTTPRequest.Method]) {
        let error = APIError(
            .methodNotAllowed,
            code: "method_not_allowed",
            message: "Use \(allowed.map(\.rawValue).joined(separator: " or ")) on this route.",
            headers: [.allow: allowed.map(\.rawValue).joined(separator: ", ")]
        )
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] where !allowed.contains(method) {
            on(path, method: method) { _, _ -> Response in throw error }
        }
    }
}
