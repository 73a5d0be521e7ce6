package dev.reliablestore.spi.tx;

/**
 * A participant's successful answer to {@link TransactionBranch#prepare()}. Voting "no" is not a
 * value: it is a {@link dev.reliablestore.api.TransactionRolledBackException}, thrown after the
 * participant rolled back.
 */
public enum Vote {
    /** The branch is prepared durably and waits for commit or rollback. */
    COMMIT,
    /** The branch wrote nothing; it is finished and takes no part in the second phase. */
    READ_ONLY
}
