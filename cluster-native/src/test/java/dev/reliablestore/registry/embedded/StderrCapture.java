package dev.reliablestore.registry.embedded;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** What the registry logged while a test ran: slf4j-simple writes to System.err, looked up per message. */
final class StderrCapture {

    private StderrCapture() {
    }

    /** Runs {@code body} and returns what was written to System.err meanwhile, echoing it so the test's output keeps it. */
    static String capturing(Runnable body) {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            System.setErr(original);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        original.print(text);
        return text;
    }
}
