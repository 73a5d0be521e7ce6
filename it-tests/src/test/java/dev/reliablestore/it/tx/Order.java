package dev.reliablestore.it.tx;

/** An order entity for the transaction tests. */
public record Order(String customer, String item, int quantity) {
}
