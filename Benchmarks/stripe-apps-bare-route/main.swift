// The limit row of the whoami benchmark: a bare Hummingbird route on the same machine answering the same JSON
// as `POST /api/whoami`, with no signature check, no storage, no logging and no metrics. What our server costs
// on top of Hummingbird is the distance to this row.
//
// Usage: stripe-apps-bare-route [--port N]   (127.0.0.1; PORT is read when --port is not given)
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The identity fields of the body, echoed as whoami answers them.
struct Identity: Decodable {
    let userID: String
    let accountID: String
    let mode: String?

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case accountID = "account_id"
        case mode
    }
}

var port = Int(ProcessInfo.processInfo.environment["PORT"] ?? "") ?? 8082
let arguments = CommandLine.arguments
if let index = arguments.firstIndex(of: "--port"), index + 1 < arguments.count, let value = Int(arguments[index + 1]) {
    port = value
}

let router = Router()
router.get("healthz") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
}
router.post("api/whoami") { request, _ -> Response in
    let body = try await request.body.collect(upTo: 1 << 20)
    let identity = try JSONDecoder().decode(Identity.self, from: Data(body.readableBytesView))
    let json =
        #"{"user_id":"\#(identity.userID)","account_id":"\#(identity.accountID)","mode":"\#(identity.mode ?? "test")","installation":{"status":"not_installed"}}"#
    return Response(
        status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
}
var logger = Logger(label: "bare-route")
logger.logLevel = .warning
let app = Application(
    router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
try await app.runService()
