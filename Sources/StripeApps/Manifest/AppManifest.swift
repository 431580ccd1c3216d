import Foundation

#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// What the backend reads from the app manifest, `stripe-app.json`.
///
/// An override file such as `stripe-app.dev.json` with `"extends": "stripe-app.json"` is merged over the file
/// it extends: objects member by member, everything else (arrays included) replaced.
public struct AppManifest: Sendable, Hashable {
    /// The app id.
    public var id: String?
    /// `allowed_redirect_uris`: the only redirect URIs install links may use (exact match).
    public var allowedRedirectURIs: [String]
    /// `ui_extension.content_security_policy["connect-src"]`: the URLs the UI extension may call.
    public var connectSources: [String]
    /// The permission names, e.g. `event_read`, `secret_write`.
    public var permissions: [String]
    /// `stripe_api_access_type`: `platform` (default), `oauth` or `restricted_api_key`.
    public var apiAccessType: String
    /// `distribution_type`: `public` or `private`.
    public var distributionType: String?

    /// Creates a manifest.
    public init(
        id: String? = nil,
        allowedRedirectURIs: [String] = [],
        connectSources: [String] = [],
        permissions: [String] = [],
        apiAccessType: String = "platform",
        distributionType: String? = nil
    ) {
        self.id = id
        self.allowedRedirectURIs = allowedRedirectURIs
        self.connectSources = connectSources
        self.permissions = permissions
        self.apiAccessType = apiAccessType
        self.distributionType = distributionType
    }

    /// Reads a manifest file, following `extends` (at most 8 levels, relative to the file).
    ///
    /// - Throws: ``ManifestError`` naming the file and the problem.
    public static func load(path: String) throws -> AppManifest {
        try AppManifest(object: loadObject(path: path, depth: 0))
    }

    /// Reads a manifest from JSON text (no `extends`).
    public init(json: Data) throws {
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw ManifestError(file: "(json)", problem: "is not a JSON object")
        }
        try self.init(object: object)
    }

    private init(object: [String: Any]) throws {
        self.init()
        id = object["id"] as? String
        allowedRedirectURIs = object["allowed_redirect_uris"] as? [String] ?? []
        let extensionObject = object["ui_extension"] as? [String: Any]
        let policy = extensionObject?["content_security_policy"] as? [String: Any]
        connectSources = policy?["connect-src"] as? [String] ?? []
        permissions = (object["permissions"] as? [[String: Any]] ?? []).compactMap { $0["permission"] as? String }
        apiAccessType = object["stripe_api_access_type"] as? String ?? "platform"
        distributionType = object["distribution_type"] as? String
    }

    private static func loadObject(path: String, depth: Int) throws -> [String: Any] {
        guard depth < 8 else { throw ManifestError(file: path, problem: "extends more than 8 levels deep") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ManifestError(file: path, problem: "cannot be read")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ManifestError(file: path, problem: "is not a JSON object")
        }
        guard let parent = object["extends"] as? String else { return object }
        let directory = (path as NSString).deletingLastPathComponent
        let parentPath = parent.hasPrefix("/") ? parent : (directory.isEmpty ? parent : directory + "/" + parent)
        return merge(try loadObject(path: parentPath, depth: depth + 1), object)
    }

    private static func merge(_ base: [String: Any], _ override: [String: Any]) -> [String: Any] {
        var result = base
        for (key, value) in override where key != "extends" {
            if let child = value as? [String: Any], let parent = base[key] as? [String: Any] {
                result[key] = merge(parent, child)
            } else {
                result[key] = value
            }
        }
        return result
    }
}

/// A manifest that cannot be read.
public struct ManifestError: Error, CustomStringConvertible, Sendable {
    /// The file.
    public let file: String
    /// What is wrong with it.
    public let problem: String

    public var description: String { "\(file) \(problem)" }
}
