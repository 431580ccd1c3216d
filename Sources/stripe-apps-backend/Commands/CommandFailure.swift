import ArgumentParser
import Foundation
import StripeApps

/// Prints `<code>: <message>` on standard error and returns exit code 1, the contract of `sign` and `verify`.
func fail(with error: SignatureError) -> ExitCode {
    fail(code: "\(error.code)", message: error.message, exitCode: 1)
}

/// Prints `<code>: <message>` on standard error and returns `exitCode`: how every command reports a failure with a
/// stable code (listed, with causes and fixes, in Docs/troubleshooting.md).
func fail(code: String, message: String, exitCode: Int32) -> ExitCode {
    // What the command printed comes first, as in a terminal, also when standard output is a buffered file or pipe.
    fflush(nil)  // every C stream: standard output is the one with anything buffered
    FileHandle.standardError.write(Data("\(code): \(message)\n".utf8))
    return ExitCode(exitCode)
}
