public import HTTPTypes
public import Hummingbird
import NIOCore
public import StripeApps

extension Response {
    /// A JSON response written with ``StripeApps/PayloadValue``, so key order is stable and numbers print as in JavaScript.
    public static func json(_ value: PayloadValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: value.jsonString))
        )
    }
}
