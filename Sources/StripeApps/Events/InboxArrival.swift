/// What storing an event in the ``EventInbox`` did.
public enum InboxArrival: Sendable, Hashable {
    /// An event with its id was stored already: nothing changed.
    case duplicate
    /// Stored with the status it came with.
    case stored
    /// Stored ``InboxEvent/Status/blocked``, to be kept and never run: its tenant's installation was blocked when
    /// it was stored (or it came blocked). A replay after an unblock runs it.
    case held
    /// Stored running, leased to the instance that received it, which runs it now.
    case claimed(ClaimedEvent)

    /// Whether the event was new (anything but a duplicate).
    public var isNew: Bool { self != .duplicate }

    /// The claim, when the event was stored leased to its receiver.
    public var claim: ClaimedEvent? {
        if case .claimed(let claim) = self { return claim }
        return nil
    }
}
