package dev.reliablestore.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Progress lines: redrawn on a terminal, plain lines in a file or a pipe (cli.md). */
class ProgressTest {

    /** Standard error's own descriptor decides, as /proc shows its target: a shell's {@code 2> log} is no terminal. */
    @Test
    void onlyATerminalDeviceIsATerminal() {
        assertThat(Progress.isTerminal("/dev/pts/3")).isTrue();
        assertThat(Progress.isTerminal("/dev/tty1")).isTrue();
        assertThat(Progress.isTerminal("/dev/console")).isTrue();
        assertThat(Progress.isTerminal("/var/log/migrate.log")).isFalse();
        assertThat(Progress.isTerminal("pipe:[123456]")).isFalse();
        assertThat(Progress.isTerminal("socket:[42]")).isFalse();
        assertThat(Progress.isTerminal("/dev/null")).isFalse();
    }

    @Test
    void outsideATerminalEachLineIsPlain() {
        StringWriter out = new StringWriter();
        Progress p = new Progress(new PrintWriter(out), false, "copying", 10, Duration.ZERO);
        p.update(5);
        p.finish();
        assertThat(out.toString()).doesNotContain("\r").contains("copying");
        assertThat(out.toString().lines()).hasSize(2);
    }
}
