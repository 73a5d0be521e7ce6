package dev.reliablestore.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Runs the tool as a separate JVM ({@code java -cp <test class path> dev.reliablestore.cli.ReliableStoreCli …}, with
 * the options and class path layout of {@link ChildJvm}), as a user or a script would, and captures its exit code and
 * output. Every process started is destroyed and reaped by {@link #close()}.
 */
final class CliProcess implements AutoCloseable {

    /** A finished run. */
    record Result(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** A running tool whose output is collected as it comes. */
    static final class Running {
        final Process process;
        private final Collector out;
        private final Collector err;

        Running(Process process) {
            this.process = process;
            this.out = new Collector(process.getInputStream());
            this.err = new Collector(process.getErrorStream());
        }

        String out() {
            return out.text();
        }

        String err() {
            return err.text();
        }

        Result await(long seconds) throws InterruptedException {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError("the tool did not finish within " + seconds + " s; stdout:\n" + out() + "\nstderr:\n" + err());
            }
            out.join(10_000);
            err.join(10_000);
            return new Result(process.exitValue(), out(), err());
        }
    }

    private static final class Collector extends Thread {
        private final InputStream in;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        Collector(InputStream in) {
            this.in = in;
            setDaemon(true);
            start();
        }

        @Override
        public void run() {
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) > 0; ) {
                    synchronized (bytes) {
                        bytes.write(buf, 0, n);
                    }
                }
            } catch (IOException closed) {
                // the process ended
            }
        }

        String text() {
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.UTF_8);
            }
        }
    }

    private final List<Process> started = new CopyOnWriteArrayList<>();
    private final Path workDir;
    private final Map<String, String> env;

    CliProcess(Path workDir, Map<String, String> env) {
        this.workDir = workDir;
        this.env = Map.copyOf(env);
    }

    CliProcess(Path workDir) {
        this(workDir, Map.of());
    }

    /** Runs to completion (at most 60 s). */
    Result run(String... args) {
        try {
            return start(args).await(60);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Runs with extra environment variables. */
    Result runWith(Map<String, String> extraEnv, String... args) {
        try {
            return start(extraEnv, args).await(60);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    Running start(String... args) {
        return start(Map.of(), args);
    }

    Running start(Map<String, String> extraEnv, String... args) {
        return startMain(ReliableStoreCli.class, extraEnv, args);
    }

    /** Runs {@code main}, a class of the test class path, instead of the tool's own main class. */
    Running startMain(Class<?> main, Map<String, String> extraEnv, String... args) {
        List<String> command = ChildJvm.get().command(main);
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile());
        pb.environment().remove("RELIABLESTORE_STORE");
        pb.environment().putAll(env);
        pb.environment().putAll(extraEnv);
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            started.add(p);
            return new Running(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs the tool inside this JVM (for argument checks that need no separate process); paths must be absolute. */
    static Result inProcess(String... args) {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        int code = ReliableStoreCli.commandLine(new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true)).execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The test class path: surefire passes the real one in surefire.test.class.path (java.class.path may be a manifest jar). */
    static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    @Override
    public void close() {
        boolean interrupted = false;
        for (Process p : started) {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
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
