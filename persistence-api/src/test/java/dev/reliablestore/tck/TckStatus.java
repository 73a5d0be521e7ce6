package dev.reliablestore.tck;

/** An enum field of the TCK's entities. */
public enum TckStatus {
    DRAFT, ACTIVE, ARCHIVED
}
