import ArgumentParser
import Foundation
import StripeApps

/// Prints `<code>: <message>` on standard error and returns exit code 1, the contract of `sign` and `verify`.
func fail(with error: SignatureError) -> ExitCode {
    FileHandle.standardError.write(Data("\(error.code): \(error.message)\n".utf8))
    return ExitCode(1)
}
