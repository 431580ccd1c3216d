import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The third-party CRM of the nightly-sync example, served by Hummingbird: it takes `POST /v1/contacts/batch`,
/// records every request, applies each idempotency key once per API key (a repeat gets the first answer, as
/// Stripe's own idempotency works) and answers 503 to the requests it is told to fail.
final class FakeCRM: Sendable {
    /// One request as the CRM received it.
    struct Request: Sendable {
        let authorization: String
        let idempotencyKey: String?
        /// The `id` of each contact in the body.
        let contactIDs: [String]
        /// What the CRM answered.
        let status: HTTPResponse.Status
        /// Whether it was a repeated idempotency key, answered without applying the batch again.
        let isReplay: Bool
    }

    private struct State {
        var requests: [Request] = []
        /// The first answer to each API key and idempotency key.
        var answers: [String: HTTPResponse.Status] = [:]
        /// The numbers (from 1) of the requests with an `Authorization` that fail.
        var failures: [String: Set<Int>] = [:]
        var counts: [String: Int] = [:]
    }

    private struct Batch: Decodable {
        struct Contact: Decodable {
            let id: String
        }
        let contacts: [Contact]
    }

    private let state = Mutex(State())

    /// Every request so far, in arrival order.
    var requests: [Request] { state.withLock { $0.requests } }

    /// The contact ids the CRM imported (not failed, not replayed) from requests with `authorization`.
    func imported(authorization: String) -> [String] {
        requests.filter { $0.authorization == authorization && $0.status == .ok && !$0.isReplay }
            .flatMap(\.contactIDs)
    }

    /// Makes the `number`th request (from 1) with `authorization` fail with 503 before anything is imported.
    func failRequest(_ number: Int, authorization: String) {
        state.withLock { _ = $0.failures[authorization, default: []].insert(number) }
    }

    /// The CRM's routes.
    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/v1/contacts/batch") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            let batch = try? JSONDecoder().decode(Batch.self, from: Data(body.readableBytesView))
            guard let authorization = request.headers[.authorization], let batch else {
                return Response(status: .badRequest)
            }
            let key = request.headers[HTTPField.Name("Idempotency-Key")!]
            return Response(
                status: self.answer(authorization: authorization, key: key, ids: batch.contacts.map(\.id)))
        }
        return router
    }

    /// Records a request and decides its answer: a failure when told so, the first answer to a repeated key, or
    /// an import.
    private func answer(authorization: String, key: String?, ids: [String]) -> HTTPResponse.Status {
        state.withLock { state in
            let number = state.counts[authorization, default: 0] + 1
            state.counts[authorization] = number
            let scopedKey = key.map { "\(authorization) \($0)" }
            var status = HTTPResponse.Status.ok
            var isReplay = false
            if state.failures[authorization]?.contains(number) == true {
                status = .serviceUnavailable
            } else if let scopedKey, let first = state.answers[scopedKey] {
                (status, isReplay) = (first, true)
            } else if let scopedKey {
                state.answers[scopedKey] = status
            }
            state.requests.append(
                Request(
                    authorization: authorization, idempotencyKey: key, contactIDs: ids, status: status,
                    isReplay: isReplay))
            return status
        }
    }
}
