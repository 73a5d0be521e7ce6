package dev.reliablestore.options;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Secrets are configured by reference — {@code env:NAME} or {@code file:PATH} — so that they stay out of
 * command lines, URIs, shell histories and configuration files that are shared.
 */
public final class Secrets {

    private Secrets() {
    }

    /** Whether {@code raw} is a reference rather than a literal secret. */
    public static boolean isReference(String raw) {
        return raw.startsWith("env:") || raw.startsWith("file:");
    }

    /**
     * The secret {@code raw} refers to, or {@code raw} itself when it is a literal.
     *
     * @throws IllegalArgumentException naming the variable or file (never a secret) when it cannot be read
     */
    static String resolve(String raw) {
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
            try {
                return Files.readString(file, StandardCharsets.UTF_8).replaceAll("[\\r\\n]+$", "");
            } catch (IOException e) {
                throw new IllegalArgumentException("file " + file + " (from file:" + file + ") cannot be read: " + e.getClass().getSimpleName());
            }
        }
        return raw;
    }
}
