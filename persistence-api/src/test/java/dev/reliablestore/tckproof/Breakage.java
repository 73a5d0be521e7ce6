package dev.reliablestore.tckproof;

/** A deliberate defect the reference store can be built with, to prove the TCK notices it. */
enum Breakage {
    /** Saves and deletes ignore the expected version. */
    IGNORES_EXPECTED_VERSION,
    /** Conflicts do not say which version was found. */
    CONFLICT_WITHOUT_ACTUAL_VERSION,
    /** A batch is written entry by entry through save(), so a bad entry leaves the earlier ones written. */
    NON_ATOMIC_BATCH,
    /** The version check and the write are not atomic: concurrent writers can overwrite each other. */
    LOSES_UPDATES,
    /** Versions go up by two. */
    VERSION_STEP_TWO,
    /** Keeps the caller's object instead of a copy. */
    NO_COPY,
    /** Loses the nanoseconds of an Instant and the precision of a Duration. */
    LOSSY_CODEC,
    /** getAll returns reverse id order. */
    UNORDERED_GET_ALL,
    /** getMany returns the found ids sorted instead of in request order. */
    SORTED_GET_MANY,
    /** delete of a missing id answers true. */
    DELETE_MISSING_SAYS_TRUE,
    /** clear answers 0. */
    CLEAR_SAYS_ZERO,
    /** clear also removes the other types. */
    CLEAR_REMOVES_ALL_TYPES,
    /** Every type lives in one namespace. */
    TYPES_SHARE_IDS,
    /** Type names are compared ignoring case. */
    TYPES_CASE_INSENSITIVE,
    /** Ids are compared ignoring case (as a naive file-per-id store on a case-insensitive disk). */
    IDS_CASE_INSENSITIVE,
    /** A delete keeps the old version counter, so a new save continues from it. */
    VERSION_SURVIVES_DELETE,
    /** The declared size limit is not enforced. */
    NO_SIZE_LIMIT,
    /** Closing the factory leaves its stores usable. */
    FACTORY_CLOSE_IGNORED,
    /** Async calls check their arguments on the caller's thread and throw. */
    ASYNC_THROWS_DIRECTLY,
    /** Async saves read the caller's map and entities on the pool thread, after the call returned. */
    ASYNC_READS_ARGUMENTS_LATE,
    /** Reopening the storage finds it empty. */
    NOT_DURABLE,
    /** Metrics are all zero. */
    NO_METRICS,
    /** count ignores its filter. */
    COUNT_IGNORES_FILTER,
    /** The same type name gives separate data in each store object. */
    STORES_DO_NOT_SHARE,
    /** Closing one store closes every store of the factory. */
    STORE_CLOSE_CLOSES_FACTORY,
    /** Ids longer than 128 characters are truncated (as a store with a short key column). */
    TRUNCATES_LONG_IDS,
    /** Invalid ids and type names are quietly "repaired" instead of refused. */
    ACCEPTS_BAD_IDS,
    /** A negative expected version is taken as "any version". */
    NEGATIVE_VERSION_MEANS_ANY,
    /** An empty batch is refused. */
    EMPTY_BATCH_REJECTED,
    /** A second close throws. */
    CLOSE_TWICE_THROWS,
    /** exists answers true for every id. */
    EXISTS_ALWAYS_TRUE,
    /** A batch returns its versions sorted by id instead of in entry order. */
    SORTED_BATCH_RESULT;

    /** The defects that live in the {@link BrokenApiStore} wrapper rather than in the reference store. */
    boolean isApiLevel() {
        return this == NON_ATOMIC_BATCH || this == ACCEPTS_BAD_IDS || this == NEGATIVE_VERSION_MEANS_ANY
                || this == EMPTY_BATCH_REJECTED || this == CLOSE_TWICE_THROWS;
    }
}
