package io.sluice.core;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs a test once per {@link ChannelCase}: every capacity (unbuffered, 1, 2, 16, 1024, unlimited)
 * on platform and on virtual threads, as Jox's {@code @TestWithCapacities}.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@ParameterizedTest(name = "{0}")
@MethodSource("io.sluice.core.ChannelCase#all")
@interface TestWithCapacities {}
