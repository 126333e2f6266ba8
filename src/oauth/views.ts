/** The sign-in pages: small, server-rendered, accessible HTML with no script at all. */

export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}

const style = `body{font:16px/1.5 system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#111}
label{display:block;margin-top:1rem;font-weight:600}input{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}
button{margin-top:1.25rem;padding:.6rem 1.2rem;font:inherit;cursor:pointer}
.error{border:2px solid #b00020;padding:.5rem .75rem;color:#b00020}ul{padding-left:1.25rem}`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Plugboard</title><style>${style}</style></head>
<body><main>
<h1>${escapeHtml(title)}</h1>
${body}
</main></body>
</html>`;
}

function errorBox(error: string | undefined): string {
  return error ? `<p class="error" role="alert" id="form-error">${escapeHtml(error)}</p>` : "";
}

export function loginPage(options: {
  action: string;
  csrf: string;
  clientName: string;
  email?: string;
  error?: string;
}): string {
  const described = options.error ? ' aria-describedby="form-error"' : "";
  return page(
    "Sign in",
    `<p><strong>${escapeHtml(options.clientName)}</strong> wants to connect to your Plugboard workspace.</p>
${errorBox(options.error)}
<form method="post" action="${escapeHtml(options.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(options.csrf)}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(options.email ?? "")}"${described}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${described}>
<button type="submit">Sign in</button>
</form>`,
  );
}

export function consentPage(options: {
  action: string;
  csrf: string;
  clientName: string;
  email: string;
  workspaceName: string;
  scopes: string[];
}): string {
  const describe: Record<string, string> = {
    READ: "Read the data you can read",
    WRITE: "Create, change and delete the data you can change",
    ADMIN: "Manage the workspace, as far as your role allows",
  };
  const items = options.scopes.map((scope) => `<li>${escapeHtml(describe[scope] ?? scope)}</li>`).join("");
  return page(
    "Allow access?",
    `<p><strong>${escapeHtml(options.clientName)}</strong> asks to act as <strong>${escapeHtml(options.email)}</strong>
in the workspace <strong>${escapeHtml(options.workspaceName)}</strong>, until you revoke it:</p>
<ul>${items}</ul>
<form method="post" action="${escapeHtml(options.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(options.csrf)}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, `<p role="alert">${escapeHtml(message)}</p>`);
}
