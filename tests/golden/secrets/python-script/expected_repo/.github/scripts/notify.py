import os

import requests

requests.post("https://slack.com/api/chat.postMessage",
              headers={'Authorization': f'Bearer {os.environ["SLACK_TOKEN"]}'},
              json={"channel": os.environ["CHANNEL"], "text": "released"})
