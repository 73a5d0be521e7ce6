package dev.reliablestore.it.tx;

/** A bank account entity for the transaction tests. */
public record Account(String owner, long balance) {

    Account plus(long amount) {
        return new Account(owner, balance + amount);
    }
}
