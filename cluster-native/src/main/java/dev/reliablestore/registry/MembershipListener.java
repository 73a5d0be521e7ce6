package dev.reliablestore.registry;

/** Receives membership events, from one thread, in order. */
@FunctionalInterface
public interface MembershipListener {

    void onEvent(MembershipEvent event);
}
