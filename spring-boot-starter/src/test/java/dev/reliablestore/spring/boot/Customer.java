package dev.reliablestore.spring.boot;

/** The entity of the starter's tests. */
public record Customer(String name, int tier) {
}
