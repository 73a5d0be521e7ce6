package dev.reliablestore.cli;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.EntityTooLargeException;
import dev.reliablestore.api.InvalidIdException;
import dev.reliablestore.registry.RegistryArgumentException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/**
 * The {@code reliablestore} command-line tool. Every command has {@code --help}; commands that
 * report something have {@code --json}; exit codes are listed in {@link ExitCodes} and docs/cli.md.
 * Errors are one line on standard error ({@code error: …}); there are no colours unless standard
 * output is a terminal (and none at all with {@code NO_COLOR} set).
 */
@Command(name = "reliablestore", mixinStandardHelpOptions = true, versionProvider = ReliableStoreCli.Version.class,
        description = "Work with ReliableStore stores from the command line.",
        subcommands = {DemoCommand.class, EntityCommands.Put.class, EntityCommands.Get.class, EntityCommands.Delete.class,
                EntityCommands.ListEntities.class, EntityCommands.Count.class, StatusCommand.class, HealthCommand.class,
                WatchCommand.class, MigrateCommand.class, BackupCommand.class, RestoreCommand.class, VerifyCommand.class,
                ReencryptCommand.class, AuditCommand.class, ZkCommand.class, NodeCommands.Failover.class, NodeCommands.Drain.class,
                NodeCommands.Resume.class, SitesCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:the operation failed (the message says why)", "2:bad usage or bad input (nothing was changed)",
                "3:a check found problems (health, verify, migrate verification, audit verify, zk secure --dry-run, sites status), or failover/drain/resume refused", "4:not found (get, delete)",
                "5:version conflict (--expect-version)", "130:interrupted by Ctrl-C (143: by SIGTERM)"})
public final class ReliableStoreCli {

    public static void main(String[] args) {
        int code = run(args);
        // stopped by a signal, the JVM is already exiting with the signal's status (130 for Ctrl-C, 143 for SIGTERM):
        // exiting with a code of our own would race it, since a non-zero exit during shutdown halts at once
        if (!shuttingDown()) {
            System.exit(code);
        }
    }

    private static boolean shuttingDown() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException shutdownInProgress) {
            return true;
        }
    }

    /** Runs the tool on the process's standard streams and returns its exit code. */
    public static int run(String... args) {
        return commandLine(new PrintWriter(System.out, true), new PrintWriter(System.err, true)).execute(args);
    }

    /** The configured command line writing to the given streams (tests, embedding). */
    static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new ReliableStoreCli());
        cli.setOut(out);
        cli.setErr(err);
        boolean colour = System.console() != null && System.getenv("NO_COLOR") == null;
        cli.setColorScheme(CommandLine.Help.defaultColorScheme(colour ? CommandLine.Help.Ansi.AUTO : CommandLine.Help.Ansi.OFF));
        cli.setParameterExceptionHandler((ex, args) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("error: " + oneLine(ex.getMessage()) + " (see '" + c.getCommandSpec().qualifiedName() + " --help')");
            c.getErr().flush();
            return ExitCodes.USAGE;
        });
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> report(ex, commandLine));
        return cli;
    }

    /**
     * Says why a command failed, as one {@code error: …} line on its standard error, and returns its exit code: what
     * the execution exception handler does, for a command that must have said it before it returns (restore: a
     * signal's shutdown hook lets the JVM exit once the command is done).
     */
    static int report(Exception ex, CommandLine commandLine) {
        int code = exitCode(ex);
        String message = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
        if (code == ExitCodes.FAILED && !(ex instanceof CliException) && !(ex instanceof dev.reliablestore.api.PersistenceException)
                && !(ex instanceof dev.reliablestore.registry.RegistryException)) {
            message = ex.getClass().getSimpleName() + ": " + message;
        }
        commandLine.getErr().println("error: " + oneLine(message));
        commandLine.getErr().flush();
        return code;
    }

    static int exitCode(Exception ex) {
        if (ex instanceof CliException c) {
            return c.exitCode();
        }
        if (ex instanceof ConcurrencyConflictException) {
            return ExitCodes.CONFLICT;
        }
        if (ex instanceof InvalidIdException || ex instanceof ConfigurationException || ex instanceof RegistryArgumentException
                || ex instanceof EntityTooLargeException) {
            return ExitCodes.USAGE;
        }
        return ExitCodes.FAILED;
    }

    static String oneLine(String message) {
        return message.strip().replaceAll("\\s*[\\r\\n]+\\s*", "; ");
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"reliablestore " + version()};
        }

        static String version() {
            String v = ReliableStoreCli.class.getPackage().getImplementationVersion();
            return v == null ? "development build" : v;
        }
    }
}
