package dev.reliablestore.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the tool in this JVM, on its configured command line, and captures its exit code and output. */
final class InProcessCli {

    record Run(int exitCode, String out, String err) {
    }

    private InProcessCli() {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ReliableStoreCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
        return new Run(code, out.toString(), err.toString());
    }
}
