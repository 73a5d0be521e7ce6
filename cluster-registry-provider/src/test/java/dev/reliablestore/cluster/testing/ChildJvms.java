package dev.reliablestore.cluster.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * Child JVMs of a test, on the test's class path, each writing its output to a log file: started,
 * waited for by a line of their output, and all killed and reaped when the test ends
 * ({@link #killAll}), so that none outlives it.
 */
public final class ChildJvms {

    private final List<Process> started = new ArrayList<>();

    /** Starts {@code mainClass} with {@code args}, its output (and errors) to {@code log}. */
    public Process start(Path log, Class<?> mainClass, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), mainClass.getName()));
        command.addAll(args);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(p);
        return p;
    }

    /** Waits until {@code p} has written {@code line} to {@code log}; fails at once if it ends first. */
    public static void awaitLine(Process p, Path log, String line, Duration atMost) {
        await().atMost(atMost).until(() -> {
            if (!p.isAlive()) {
                throw new AssertionError("the child process ended: " + Files.readString(log));
            }
            return Files.readString(log).contains(line);
        });
    }

    /** Kills (SIGKILL) every child still running and waits for each to end. */
    public void killAll() throws InterruptedException {
        for (Process p : started) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
