import Foundation
public import Hummingbird
import Logging
import StripeApps
import StripeAppsAPI

/// Turns every error into a JSON error response with a stable code, so clients and the CORS middleware
/// outside it always see a response. Unexpected errors become a generic 500: their details go to the log
/// (type only, since descriptions of foreign errors may quote data), never to the client.
public struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as SignatureError {
            return try APIError(error).response(from: request, context: context)
        } catch let error as StoreError {
            let answer = APIError(error)
            if answer.status.code < 500 {
                // A write from a stale version (409 version_conflict): the client's to resolve, nothing is wrong
                // with storage.
                context.logger.info("request refused by storage", metadata: ["error.code": "\(error.code)"])
            } else {
                context.logger.error(
                    "storage error", metadata: ["error.code": "\(error.code)", "error": "\(error.message)"])
            }
            return try answer.response(from: request, context: context)
        } catch let error as StripeAPIError {
            context.logger.error(
                "Stripe API error",
                metadata: [
                    "error.code": "\(error.code)", "stripe.code": "\(error.stripeCode ?? "-")",
                    "stripe.status": "\(error.httpStatus.map(String.init) ?? "-")",
                    "stripe.request_id": "\(error.requestID ?? "-")",
                ]
            )
            return try APIError(error).response(from: request, context: context)
        } catch let error as HTTPError {
            return try Self.apiError(for: error).response(from: request, context: context)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            context.logger.error("unexpected error", metadata: ["error.type": "\(type(of: error))"])
            return try APIError.unexpected.response(from: request, context: context)
        }
    }

    private static func apiError(for error: HTTPError) -> APIError {
        switch error.status {
        case .notFound: .notFound
        case .contentTooLarge: APIError(.contentTooLarge, code: "payload_too_large", message: "The body is too large.")
        default:
            APIError(
                error.status,
                code: error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_"),
                message: error.body ?? error.status.reasonPhrase
            )
        }
    }
}
