// "weather Oslo" asks a weather service; the answer comes back as an
// http_response event, and the same rule replies with it.
if (event.type === 'message_received' && keywords.startsWith(message.text, 'weather')) {
  const city = message.text.trim().split(/\s+/).slice(1).join(' ') || 'Oslo';
  http.request({
    url: 'https://weather.example.org/now?city=' + encodeURIComponent(city),
    timeout: 5,
    context: { to: message.sender, city: city, connection: message.connection && message.connection.name },
  });
  stop();
} else if (event.type === 'http_response' && event.payload.context && event.payload.context.city) {
  const ctx = event.payload.context;
  const r = event.payload.response;
  const text = r.status === 200 && r.json
    ? ctx.city + ': ' + r.json.temperature + ' °C, ' + r.json.summary
    : 'Sorry, no weather for ' + ctx.city + ' right now.';
  send({ to: ctx.to, text: text, connection: ctx.connection });
}
