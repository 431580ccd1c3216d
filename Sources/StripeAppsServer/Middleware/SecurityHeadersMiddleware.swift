public import Hummingbird

/// Adds `X-Content-Type-Options: nosniff` to every response, errors included (it runs outside the error
/// middleware), so that no browser second-guesses a JSON or HTML content type.
public struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        return response
    }
}
