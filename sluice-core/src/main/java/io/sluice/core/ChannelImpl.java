package io.sluice.core;

import java.time.Duration;
import java.util.Iterator;
import java.util.function.Function;
import java.util.function.Supplier;

final class ChannelImpl<T> implements Channel<T> {
  final int capacity;

  ChannelImpl(int capacity) {
    this.capacity = capacity;
  }

  @Override
  public void send(T value) {
    throw new UnsupportedOperationException();
  }

  @Override
  public void send(Context ctx, T value) {
    throw new UnsupportedOperationException();
  }

  @Override
  public boolean trySend(T value) {
    throw new UnsupportedOperationException();
  }

  @Override
  public boolean trySend(T value, Duration timeout) {
    throw new UnsupportedOperationException();
  }

  @Override
  public <R> Clause<R> onSend(T value, Supplier<? extends R> onSent) {
    throw new UnsupportedOperationException();
  }

  @Override
  public boolean close() {
    throw new UnsupportedOperationException();
  }

  @Override
  public boolean close(Throwable error) {
    throw new UnsupportedOperationException();
  }

  @Override
  public boolean isClosed() {
    throw new UnsupportedOperationException();
  }

  @Override
  public int len() {
    throw new UnsupportedOperationException();
  }

  @Override
  public int cap() {
    return capacity;
  }

  @Override
  public T receive() {
    throw new UnsupportedOperationException();
  }

  @Override
  public T receive(Context ctx) {
    throw new UnsupportedOperationException();
  }

  @Override
  public Received<T> receiveOrClosed() {
    throw new UnsupportedOperationException();
  }

  @Override
  public Received<T> receiveOrClosed(Context ctx) {
    throw new UnsupportedOperationException();
  }

  @Override
  public TryReceived<T> tryReceive() {
    throw new UnsupportedOperationException();
  }

  @Override
  public TryReceived<T> tryReceive(Duration timeout) {
    throw new UnsupportedOperationException();
  }

  @Override
  public <R> Clause<R> onReceive(Function<? super T, ? extends R> onValue) {
    throw new UnsupportedOperationException();
  }

  @Override
  public <R> Clause<R> onReceiveOrClosed(Function<? super Received<T>, ? extends R> onResult) {
    throw new UnsupportedOperationException();
  }

  @Override
  public Iterator<T> iterator() {
    throw new UnsupportedOperationException();
  }

  /** Drops every buffered value (for timers: no stale tick after stop or reset). */
  void clearBuffer() {
    throw new UnsupportedOperationException();
  }
}
