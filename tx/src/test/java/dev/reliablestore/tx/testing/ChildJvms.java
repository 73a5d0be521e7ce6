package dev.reliablestore.tx.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Child JVMs for crash tests: a child runs a main class on the test's class path and may halt with
 * exit code 3 (the simulated crash); every child is reaped by {@link #close()}.
 */
public final class ChildJvms implements AutoCloseable {

    /** The exit code a child uses when it halts on purpose. */
    public static final int HALTED = 3;

    private final Path logs;
    private final List<Process> children = new ArrayList<>();

    /** {@code logs}: where each child's output goes (a test's temporary directory). */
    public ChildJvms(Path logs) {
        this.logs = logs;
    }

    /**
     * Runs {@code main} with {@code args} to its end and returns its exit code, 0 or {@link #HALTED};
     * any other outcome fails with the child's output.
     */
    public int run(Class<?> main, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"),
                main.getName()));
        command.addAll(List.of(args));
        Path out = logs.resolve("child-" + children.size() + ".log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        children.add(p);
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("child " + args[0] + " did not finish; output:\n" + Files.readString(out));
        }
        if (p.exitValue() != 0 && p.exitValue() != HALTED) {
            throw new AssertionError("child " + args[0] + " failed with exit code " + p.exitValue() + "; output:\n" + Files.readString(out));
        }
        return p.exitValue();
    }

    @Override
    public void close() {
        boolean interrupted = false;
        for (Process p : children) {
            p.destroyForcibly();
            try {
                p.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                interrupted = true; // still reap the others; the interrupt is restored below
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
