package dev.reliablestore.it.chaos;

import java.time.Duration;

/**
 * Short or long form of the fault scenarios. CI runs the short form (tens of seconds each); the long
 * form runs for {@code -Dreliablestore.chaos.minutes=N} minutes per scenario, repeating its fault cycle
 * and giving the clients a fresh key set every cycle so that each key's history stays small enough
 * to check.
 */
final class Chaos {

    private Chaos() {
    }

    /** The long form's length, or zero for the short form. */
    static Duration length() {
        String m = System.getProperty("reliablestore.chaos.minutes", "").trim();
        if (m.isEmpty()) {
            return Duration.ZERO;
        }
        return Duration.ofSeconds(Math.round(Double.parseDouble(m) * 60));
    }

    static boolean longForm() {
        return !length().isZero();
    }

    /** Whether a long run that started at {@code startNanos} has time for another cycle. */
    static boolean anotherCycle(long startNanos) {
        return longForm() && System.nanoTime() - startNanos < length().toNanos();
    }

    /** Keys {@code group}-e{@code epoch}-k0.. : a fresh set per cycle, one set per group of at most four clients. */
    static java.util.List<String> keys(int group, int epoch, int count) {
        java.util.List<String> keys = new java.util.ArrayList<>();
        for (int k = 0; k < count; k++) {
            keys.add("g" + group + "-e" + epoch + "-k" + k);
        }
        return keys;
    }
}
