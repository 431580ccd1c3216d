import StripeApps

/// The items of a Stripe list across all its pages, fetched one page at a time as iteration reaches it.
///
/// ```swift
/// for try await customer in client.customers.all(limit: 100) { … }
/// ```
public struct AutoPagingSequence<Element: Sendable>: AsyncSequence, Sendable {
    public typealias Failure = any Error

    let client: StripeClient
    let path: String
    let parameters: FormParameters
    let decodeItem: @Sendable (PayloadValue, String?) throws -> Element

    public func makeAsyncIterator() -> Iterator {
        Iterator(sequence: self)
    }

    /// Walks the pages.
    public struct Iterator: AsyncIteratorProtocol, Sendable {
        let sequence: AutoPagingSequence
        private var buffer: [Element] = []
        private var cursor: String?
        private var isFinished = false
        private let isReversed: Bool

        init(sequence: AutoPagingSequence) {
            self.sequence = sequence
            if case .string(let endingBefore)? = sequence.parameters["ending_before"] {
                self.isReversed = true
                self.cursor = endingBefore
            } else {
                self.isReversed = false
                if case .string(let startingAfter)? = sequence.parameters["starting_after"] {
                    self.cursor = startingAfter
                }
            }
        }

        public mutating func next() async throws -> Element? {
            while buffer.isEmpty {
                guard !isFinished else { return nil }
                try await fetchPage()
            }
            return buffer.removeFirst()
        }

        private mutating func fetchPage() async throws {
            var parameters = sequence.parameters
            if let cursor { parameters[isReversed ? "ending_before" : "starting_after"] = .string(cursor) }
            let response = try await sequence.client.get(sequence.path, parameters)
            let decodeItem = sequence.decodeItem
            let page = try StripeList.read(response) { try decodeItem($0, response.requestID) }
            // Walking backwards, the next page is the one before this page's newest item; its items are
            // handed out oldest first.
            cursor = isReversed ? page.ids.first : page.ids.last
            buffer = isReversed ? page.data.reversed() : page.data
            isFinished = !page.hasMore || page.ids.isEmpty
        }
    }
}
