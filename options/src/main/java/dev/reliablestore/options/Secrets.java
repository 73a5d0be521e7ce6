package dev.reliablestore.options;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Secrets are configured by reference — {@code env:NAME} or {@code file:PATH} — so that they stay out of
 * command lines, URIs, shell histories and configuration files that are shared; {@code text:VALUE}
 * writes one inline on purpose (tests, demos).
 */
public final class Secrets {

    private Secrets() {
    }

    /** Whether {@code raw} is a reference rather than a literal secret. */
    public static boolean isReference(String raw) {
        return raw.startsWith("env:") || raw.startsWith("file:") || raw.startsWith("text:");
    }

    /**
     * The secret {@code raw} refers to; a bare literal is itself when {@code literals} are accepted.
     *
     * @throws IllegalArgumentException naming the variable or file (never a secret) when it cannot be read,
     *                                  or when {@code raw} is a literal and literals are not accepted
     */
    public static String resolve(String raw, boolean literals) {
        if (raw.startsWith("text:")) {
            return raw.substring(5);
        }
        if (raw.startsWith("env:")) {
            String var = raw.substring(4);
            String value = var.isEmpty() ? null : System.getenv(var);
            if (value == null || value.isEmpty()) {
                throw new IllegalArgumentException("environment variable \"" + var + "\" (from env:" + var + ") is not set or empty");
            }
            return value;
        }
        if (raw.startsWith("file:")) {
            Path file = Path.of(raw.substring(5));
            String content;
            try {
                content = Files.readString(file, StandardCharsets.UTF_8).replaceAll("[\\r\\n]+$", "");
            } catch (IOException e) {
                throw new IllegalArgumentException("file " + file + " (from file:" + file + ") cannot be read: " + e.getClass().getSimpleName());
            }
            if (content.isEmpty()) {
                throw new IllegalArgumentException("file " + file + " (from file:" + file + ") is empty");
            }
            return content;
        }
        if (!literals) {
            throw new IllegalArgumentException("must be a secret reference: env:NAME, file:PATH or text:VALUE (the value itself is not shown)");
        }
        return raw;
    }
}
