package dev.reliablestore.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code reliablestore} command-line tool. Exit codes: 0 success, 1 the operation failed
 * (the message says why), 2 bad usage.
 */
@Command(name = "reliablestore", mixinStandardHelpOptions = true, versionProvider = ReliableStoreCli.Version.class,
        description = "Work with ReliableStore stores from the command line.",
        subcommands = {DemoCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:the operation failed (the message says why)", "2:bad usage"})
public final class ReliableStoreCli {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the tool and returns its exit code (for tests and embedding). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new ReliableStoreCli());
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("error: " + ex.getMessage());
            return 1;
        });
        return cli.execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = ReliableStoreCli.class.getPackage().getImplementationVersion();
            return new String[] {"reliablestore " + (v == null ? "development build" : v)};
        }
    }
}
