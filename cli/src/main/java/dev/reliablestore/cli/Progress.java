package dev.reliablestore.cli;

import java.io.PrintWriter;
import java.time.Duration;

/**
 * A progress line: done/total, percentage, rate and ETA. On a terminal it is redrawn in place with
 * {@code \r} (at most ten times a second); otherwise a plain line is printed every
 * {@code interval}, so logs and pipes get readable lines and no control characters. Thread-safe.
 */
final class Progress {

    private final PrintWriter out;
    private final boolean terminal;
    private final String label;
    private final long intervalNanos;
    private final long start = System.nanoTime();
    private long total;
    private long done;
    private long lastPrint;
    private int lastWidth;
    private boolean finished;

    Progress(PrintWriter out, boolean terminal, String label, long total, Duration interval) {
        this.out = out;
        this.terminal = terminal;
        this.label = label;
        this.total = total;
        this.intervalNanos = terminal ? 100_000_000L : interval.toNanos();
        this.lastPrint = start;
    }

    /**
     * Whether standard error is a terminal. The JVM's console says so for standard input and output only
     * ({@code migrate … 2> log} from a shell has one), so on Linux standard error's own descriptor decides.
     */
    static boolean onTerminal() {
        if (System.console() == null) {
            return false;
        }
        try {
            return isTerminal(java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/2")).toString());
        } catch (java.io.IOException | UnsupportedOperationException | SecurityException noProc) {
            return true; // no /proc (macOS, Windows): the console is all there is to go by
        }
    }

    /** Whether a descriptor linked to {@code target} (as /proc shows it) is a terminal rather than a file or a pipe. */
    static boolean isTerminal(String target) {
        return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
    }

    synchronized void total(long newTotal) {
        total = newTotal;
    }

    synchronized void advance(long n) {
        update(done + n);
    }

    synchronized void update(long nowDone) {
        done = nowDone;
        long now = System.nanoTime();
        if (now - lastPrint >= intervalNanos) {
            lastPrint = now;
            print(now, false);
        }
    }

    synchronized long done() {
        return done;
    }

    /** Prints the final state (always, also when nothing was printed yet). */
    synchronized void finish() {
        if (!finished) {
            finished = true;
            print(System.nanoTime(), true);
        }
    }

    private void print(long now, boolean last) {
        String line = line(now);
        if (terminal) {
            String padded = line.length() < lastWidth ? line + " ".repeat(lastWidth - line.length()) : line;
            lastWidth = line.length();
            out.print("\r" + padded);
            if (last) {
                out.println();
            }
        } else {
            out.println(line);
        }
        out.flush();
    }

    private String line(long now) {
        double seconds = Math.max(1e-3, (now - start) / 1e9);
        double rate = done / seconds;
        StringBuilder s = new StringBuilder(label).append(": ").append(done).append('/').append(total);
        if (total > 0) {
            s.append(String.format(java.util.Locale.ROOT, " (%d%%)", done * 100 / total));
        }
        s.append(String.format(java.util.Locale.ROOT, ", %.0f/s", rate));
        if (done < total && rate > 0) {
            s.append(", ETA ").append(duration((long) ((total - done) / rate)));
        } else if (done >= total) {
            s.append(", took ").append(duration((long) seconds));
        }
        return s.toString();
    }

    static String duration(long seconds) {
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return seconds / 60 + "m" + String.format("%02ds", seconds % 60);
        }
        return seconds / 3600 + "h" + String.format("%02dm", seconds % 3600 / 60);
    }
}
