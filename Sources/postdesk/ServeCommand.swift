import ArgumentParser
import Logging
import PostdeskDaemon
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the daemon: LMTP/SMTP intake into the ticket store.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try await options.loadConfiguration()
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = BatchedLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        defer { BatchedLogOutput.standardError.flush() }
        let logger = Logger(label: "postdesk")
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    PostdeskService(
                        configuration: configuration, logger: logger, configurationPath: options.resolvedPath)
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch is ShutdownIncomplete {
            // Already logged by the service; the status tells a supervisor that messages were given up.
            throw ExitCode(ShutdownIncomplete.exitStatus)
        }
    }
}

struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration; list every error with its key, or every value with its origin.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        do {
            let configuration = try await PostdeskConfiguration.load(path: options.resolvedPath)
            print("configuration OK (\(options.resolvedPath ?? "built-in defaults"))")
            print(configuration.summary)
            print("")
            print("Every value and where it came from (environment, file, built-in sample, default):")
            print(configuration.originTable)
        } catch let errors as ConfigurationErrors {
            printError(errors.description)
            throw ExitCode(78)
        }
    }
}
