package dev.reliablestore.it.history;

/** The entity of the history tests: one unique value per write (client and sequence number), so a read names the write it saw. */
public record Register(String value) {
}
