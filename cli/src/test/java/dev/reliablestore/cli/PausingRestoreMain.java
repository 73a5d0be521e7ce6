package dev.reliablestore.cli;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The tool's main for a process test, whose {@code restore} pauses after its batch N (the first argument; the rest
 * are the tool's) and prints "paused after batch N" on standard error: the test then stops it with a signal at a
 * known point, not at a moment it guessed. A paused restore goes on once it was asked to stop (the signal's shutdown
 * hook), so that it stops before its next batch. With {@code N/stuck} it never goes on, as a batch the registry never
 * answers, and the signal's hook waits for it one second (not 30).
 */
public final class PausingRestoreMain {

    private PausingRestoreMain() {
    }

    public static void main(String[] args) {
        boolean stuck = args[0].endsWith("/stuck");
        int pauseAfter = Integer.parseInt(stuck ? args[0].substring(0, args[0].length() - "/stuck".length()) : args[0]);
        CommandLine cli = ReliableStoreCli.commandLine(new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        RestoreCommand restore = cli.getSubcommands().get("restore").getCommand();
        if (stuck) {
            restore.stopWait = Duration.ofSeconds(1);
        }
        restore.afterBatch = done -> {
            if (done == pauseAfter) {
                System.err.println("paused after batch " + done);
                System.err.flush();
                while (stuck || !restore.stopRequested) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // until the signal (or kill -9); stuck: until the JVM exits
                }
            }
        };
        int code = cli.execute(Arrays.copyOfRange(args, 1, args.length));
        if (!restore.stopRequested) {
            System.exit(code); // stopped by a signal, the JVM is exiting with the status the restore's hook gives it already
        }
    }
}
